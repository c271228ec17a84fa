"""The operational store's first schema: every table the links, the PSP service and the
dashboard need (link_requests, link_sends, psp_events, payments, templates, users, audit_log).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('link_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('link_key', sa.String(length=32), nullable=False),
    sa.Column('hotel_id', sa.String(length=64), nullable=False),
    sa.Column('reservation_id', sa.String(length=64), nullable=True),
    sa.Column('confirmation_no', sa.String(length=64), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('installments', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('send_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminder_days', sa.JSON(), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('guest_first_name', sa.String(length=100), nullable=True),
    sa.Column('guest_last_name', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('cc', sa.JSON(), nullable=True),
    sa.Column('bcc', sa.JSON(), nullable=True),
    sa.Column('payer_label', sa.String(length=100), nullable=True),
    sa.Column('arrival_date', sa.Date(), nullable=True),
    sa.Column('arrival_time', sa.String(length=5), nullable=True),
    sa.Column('departure_date', sa.Date(), nullable=True),
    sa.Column('adults', sa.Integer(), nullable=True),
    sa.Column('children', sa.Integer(), nullable=True),
    sa.Column('payment_method', sa.String(length=32), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('posted_by', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_requests')),
    sa.UniqueConstraint('link_key', name=op.f('uq_link_requests_link_key')),
    sa.UniqueConstraint('order_id', name=op.f('uq_link_requests_order_id'))
    )
    with op.batch_alter_table('link_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_requests_hotel_id'), ['hotel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_requests_reservation_id'), ['reservation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_requests_send_after'), ['send_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_requests_status'), ['status'], unique=False)

    op.create_table('templates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('hotel_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_templates')),
    sa.UniqueConstraint('hotel_id', 'service', 'language', 'name', name='uq_templates_key')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('hotel_ids', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('link_sends',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=True),
    sa.Column('merge_values', sa.JSON(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('marker', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_doubt', sa.Boolean(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivery_status', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['link_requests.id'], name=op.f('fk_link_sends_request_id_link_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_sends')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_link_sends_idempotency_key'))
    )
    with op.batch_alter_table('link_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_sends_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_sends_status'), ['status'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('payer_label', sa.String(length=100), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('psp_reference', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('alias', sa.String(length=64), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['link_requests.id'], name=op.f('fk_payments_request_id_link_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('order_id', name=op.f('uq_payments_order_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_request_id'), ['request_id'], unique=False)

    op.create_table('psp_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('signature_ok', sa.Boolean(), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('payid', sa.String(length=64), nullable=True),
    sa.Column('status_code', sa.String(length=8), nullable=True),
    sa.Column('mapped_status', sa.String(length=24), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_psp_events_payment_id_payments')),
    sa.ForeignKeyConstraint(['request_id'], ['link_requests.id'], name=op.f('fk_psp_events_request_id_link_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psp_events'))
    )
    with op.batch_alter_table('psp_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psp_events_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psp_events_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_psp_events_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('psp_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psp_events_request_id'))
        batch_op.drop_index(batch_op.f('ix_psp_events_received_at'))
        batch_op.drop_index(batch_op.f('ix_psp_events_order_id'))

    op.drop_table('psp_events')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_request_id'))

    op.drop_table('payments')
    with op.batch_alter_table('link_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_sends_status'))
        batch_op.drop_index(batch_op.f('ix_link_sends_request_id'))

    op.drop_table('link_sends')
    op.drop_table('users')
    op.drop_table('templates')
    with op.batch_alter_table('link_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_requests_status'))
        batch_op.drop_index(batch_op.f('ix_link_requests_send_after'))
        batch_op.drop_index(batch_op.f('ix_link_requests_reservation_id'))
        batch_op.drop_index(batch_op.f('ix_link_requests_hotel_id'))

    op.drop_table('link_requests')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
