"""applications, rounds, follow-ups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:32:53.478452
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing messages are kept; they are matched to applications on the next sync.

    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_pk", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_pk"], ["companies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_status"), ["status"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_pk", sa.Integer(), nullable=False),
        sa.Column("company_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["application_pk"], ["applications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["company_pk"], ["companies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", "application_pk", name="uq_contact"),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_application_pk"), ["application_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_email"), ["email"], unique=False)

    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_pk", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("round_pk", sa.Integer(), nullable=True),
        sa.Column("due", sa.DateTime(), nullable=False),
        sa.Column("overdue", sa.DateTime(), nullable=True),
        sa.Column("expires", sa.DateTime(), nullable=True),
        sa.Column("alert_at", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_message_pk", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_pk"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_pk", "key", name="uq_followup_key"),
    )
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_followups_application_pk"), ["application_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_followups_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_followups_state"), ["state"], unique=False)

    op.create_table(
        "interview_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_pk", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("interviewers", sa.JSON(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("calendar_uid", sa.String(length=500), nullable=False),
        sa.Column("calendar_sequence", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("source_message_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["application_pk"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interview_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_rounds_application_pk"), ["application_pk"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interview_rounds_calendar_uid"), ["calendar_uid"], unique=False
        )

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_pk", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=False),
        sa.Column("to_status", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["application_pk"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_changes_application_pk"), ["application_pk"], unique=False
        )

    op.create_table(
        "user_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_pk", sa.Integer(), nullable=False),
        sa.Column("followup_key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["application_pk"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_actions_application_pk"), ["application_pk"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_pk", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("match_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("match_uncertain", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("promised", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("advancing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("tracked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            batch_op.f("ix_messages_application_pk"), ["application_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_messages_tracked"), ["tracked"], unique=False)
        batch_op.create_foreign_key(
            "fk_messages_application",
            "applications",
            ["application_pk"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_messages_application", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_messages_tracked"))
        batch_op.drop_index(batch_op.f("ix_messages_application_pk"))
        batch_op.drop_column("tracked")
        batch_op.drop_column("advancing")
        batch_op.drop_column("promised")
        batch_op.drop_column("match_uncertain")
        batch_op.drop_column("match_reason")
        batch_op.drop_column("application_pk")

    with op.batch_alter_table("user_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_actions_application_pk"))

    op.drop_table("user_actions")
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_changes_application_pk"))

    op.drop_table("status_changes")
    with op.batch_alter_table("interview_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_rounds_calendar_uid"))
        batch_op.drop_index(batch_op.f("ix_interview_rounds_application_pk"))

    op.drop_table("interview_rounds")
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followups_state"))
        batch_op.drop_index(batch_op.f("ix_followups_due"))
        batch_op.drop_index(batch_op.f("ix_followups_application_pk"))

    op.drop_table("followups")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_email"))
        batch_op.drop_index(batch_op.f("ix_contacts_application_pk"))

    op.drop_table("contacts")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_status"))

    op.drop_table("applications")
    op.drop_table("companies")
