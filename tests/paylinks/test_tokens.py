"""Link tokens: unguessable, signed, expiring; a bad one reveals nothing."""

import datetime as dt
import secrets

import pytest

from lettrage.paylinks import tokens

SECRET = "a-long-link-secret"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=7)


def test_a_genuine_link_opens_until_it_expires():
    key = tokens.new_link_key()
    token = tokens.make_token(key, LATER, SECRET)
    assert len(token) == 48 and token.isascii() and "/" not in token and "+" not in token
    found = tokens.read_token(token, SECRET, NOW)
    assert found.link_key == key and found.expires_at == LATER
    with pytest.raises(tokens.ExpiredLink):
        tokens.read_token(token, SECRET, LATER)


def test_the_same_request_gives_the_same_link_and_another_request_another():
    key = tokens.new_link_key()
    assert tokens.make_token(key, LATER, SECRET) == tokens.make_token(key, LATER, SECRET)
    assert tokens.make_token(tokens.new_link_key(), LATER, SECRET) != tokens.make_token(key, LATER, SECRET)


@pytest.mark.parametrize("change", ["flip_char", "truncate", "extend", "other_secret", "later_expiry", "garbage"])
def test_an_altered_or_guessed_link_is_refused_with_a_message_that_names_nothing(change):
    key = tokens.new_link_key()
    token = tokens.make_token(key, LATER, SECRET)
    secret = SECRET
    if change == "flip_char":
        i = 10
        token = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
    elif change == "truncate":
        token = token[:-3]
    elif change == "extend":
        token += "AAAA"
    elif change == "other_secret":
        secret = "another-secret"
    elif change == "later_expiry":  # re-signing with a forged expiry needs the secret
        token = tokens.make_token(key, LATER + dt.timedelta(days=30), "guessed-secret")
    else:
        token = "../../etc/passwd<script>é"
    with pytest.raises(tokens.InvalidLink) as err:
        tokens.read_token(token, secret, NOW)
    assert str(err.value) == "This payment link is not valid."
    assert key not in str(err.value)


def test_random_guesses_never_open_a_link():
    for _ in range(2000):
        with pytest.raises(tokens.InvalidLink):
            tokens.read_token(secrets.token_urlsafe(36), SECRET, NOW)


def test_the_link_url_and_no_secret():
    key = tokens.new_link_key()
    url = tokens.link_url("https://pay.example/", key, LATER, SECRET)
    assert url.startswith("https://pay.example/l/") and key not in url
    with pytest.raises(ValueError, match="LETTRAGE_LINK_SECRET"):
        tokens.make_token(key, LATER, "")
