import time, cProfile, pstats, io
from lettrage.paylinks.outbox import open_outbox

def test_prof(live):
    for i in range(3):
        t=time.monotonic()
        pr = cProfile.Profile(); pr.enable()
        with open_outbox(live.settings, live.sessions, email=False, sms=False) as o:
            o.rules.get("H1")
        pr.disable()
        print("open_outbox light", time.monotonic()-t)
        if i == 1:
            s=io.StringIO(); pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(18); print(s.getvalue()[:4000])
