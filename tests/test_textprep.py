"""Tests for interviewd.textprep: body splitting, classifier text, HTML to text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewd.textprep import MODEL_TEXT_MAX_CHARS, html_to_text, model_text, split_body

# ---------------------------------------------------------------------------------------------
# split_body: quoted history
# ---------------------------------------------------------------------------------------------


def test_plain_text_without_history_or_signature_is_all_new() -> None:
    body = "Hi Sam,\n\nCould you do a call on Thursday?\n\nJane"
    assert split_body(body) == (body, "", "")


def test_empty_body() -> None:
    assert split_body("") == ("", "", "")


def test_gmail_attribution_on_one_line() -> None:
    body = (
        "Thursday at 2pm works for us.\n\n"
        "On Tue, Oct 6, 2026 at 10:00 AM Sam Rivera <sam.rivera@example.net> wrote:\n"
        "> Would Thursday work?\n"
    )
    new, quoted, sig = split_body(body)
    assert new == "Thursday at 2pm works for us."
    assert quoted.startswith("On Tue, Oct 6, 2026")
    assert "> Would Thursday work?" in quoted
    assert sig == ""


def test_gmail_attribution_wrapped_over_two_lines() -> None:
    body = (
        "Confirmed.\n\n"
        "On Tue, Oct 6, 2026 at 10:00 AM Sam Rivera <\n"
        "sam.rivera@example.net> wrote:\n"
        "> Can we move it?\n"
    )
    new, quoted, _ = split_body(body)
    assert new == "Confirmed."
    assert "sam.rivera@example.net> wrote:" in quoted


@pytest.mark.parametrize(
    "attribution",
    [
        "Le mar. 6 oct. 2026 à 10:00, Sam Rivera <sam@example.net> a écrit :",
        "Am 06.10.2026 um 10:00 schrieb Sam Rivera <sam@example.net>:",
        "El mar, 6 oct 2026 a las 10:00, Sam Rivera escribió:",
    ],
)
def test_non_english_attributions(attribution: str) -> None:
    new, quoted, _ = split_body(f"Merci, à jeudi.\n\n{attribution}\n> Bonjour\n")
    assert new == "Merci, à jeudi."
    assert quoted.startswith(attribution)


def test_outlook_separator_and_header_run() -> None:
    body = (
        "Hello Sam,\n\nUnfortunately we will not be moving forward.\n\n"
        "________________________________\n"
        "From: Sam Rivera <sam.rivera@example.net>\n"
        "Sent: Monday, October 5, 2026 9:00 AM\n"
        "To: Tom Baker <tom@northwind.example>\n"
        "Subject: Application\n\n"
        "Hi Tom, any news?\n"
    )
    new, quoted, _ = split_body(body)
    assert new == "Hello Sam,\n\nUnfortunately we will not be moving forward."
    assert quoted.startswith("____")
    assert "Hi Tom, any news?" in quoted


def test_outlook_header_run_without_separator_bold_names() -> None:
    body = (
        "See you then.\n\n"
        "*From:* Sam Rivera <sam.rivera@example.net>\n"
        "*Sent:* Monday, October 5, 2026 9:00 AM\n"
        "*To:* Tom Baker\n"
        "*Subject:* Re: Interview\n\n"
        "Is 3pm ok?\n"
    )
    new, quoted, _ = split_body(body)
    assert new == "See you then."
    assert quoted.startswith("*From:*")


def test_original_message_marker() -> None:
    new, quoted, _ = split_body(
        "We'd like to offer you the role.\n\n-----Original Message-----\nFrom: Sam\nold text"
    )
    assert new == "We'd like to offer you the role."
    assert quoted.startswith("-----Original Message-----")


def test_from_line_alone_is_not_a_header_run() -> None:
    body = "From: the hiring team at Acme\n\nWe would like to invite you to interview."
    assert split_body(body)[0] == body


def test_quoted_lines_without_attribution() -> None:
    new, quoted, _ = split_body("Yes, that works.\n\n> Can you do Friday?\n> Thanks\n")
    assert new == "Yes, that works."
    assert quoted == "> Can you do Friday?\n> Thanks"


def test_inline_replies_are_kept_as_new_text() -> None:
    body = (
        "On Tue, Oct 6, 2026, Jane Doe wrote:\n"
        "> Can you do Thursday?\n"
        "Yes, Thursday works.\n"
        "> And could you bring ID?\n"
        "Sure.\n"
    )
    new, quoted, _ = split_body(body)
    assert new == "Yes, Thursday works.\nSure."
    assert "> Can you do Thursday?" in quoted
    assert "> And could you bring ID?" in quoted


def test_all_quoted_keeps_everything_as_new_text() -> None:
    body = "> old stuff\n> more old stuff"
    assert split_body(body) == (body, "", "")


def test_forward_without_note_keeps_forwarded_content() -> None:
    body = (
        "---------- Forwarded message ---------\nFrom: HR <hr@acme.example>\n"
        "Date: Tue, Oct 6, 2026\nSubject: Offer\nTo: Sam\n\nWe are pleased to offer you the role."
    )
    assert "We are pleased to offer you the role." in split_body(body)[0]


def test_crlf_line_endings() -> None:
    new, quoted, _ = split_body("Ok.\r\n\r\nOn Mon, Jane wrote:\r\n> hi\r\n")
    assert new == "Ok."
    assert quoted == "On Mon, Jane wrote:\n> hi"


# ---------------------------------------------------------------------------------------------
# split_body: signatures and footers
# ---------------------------------------------------------------------------------------------


def test_dash_dash_space_delimiter() -> None:
    new, _, sig = split_body("Short answer: yes.\n\n-- \nJane Doe\nAcme")
    assert new == "Short answer: yes."
    assert sig == "-- \nJane Doe\nAcme"


@pytest.mark.parametrize(
    "tag", ["Sent from my iPhone", "Sent from my Android", "Get Outlook for iOS"]
)
def test_mobile_tags(tag: str) -> None:
    new, _, sig = split_body(f"Confirmed for 3pm.\n\n{tag}\n")
    assert new == "Confirmed for 3pm."
    assert sig == tag


def test_sign_off_name_and_title_block() -> None:
    body = (
        "Hi Sam,\n\nWe will share feedback by Friday, October 16.\n\n"
        "Best,\nJane Doe\nSenior Recruiter | Acme Robotics\n+1 (555) 010-2233\n"
        "https://acme.example/careers\n"
    )
    new, _, sig = split_body(body)
    assert new.endswith("We will share feedback by Friday, October 16.\n\nBest,\nJane Doe")
    assert sig.startswith("Senior Recruiter | Acme Robotics")
    assert "+1 (555) 010-2233" in sig


def test_sign_off_with_name_on_same_line() -> None:
    new, _, sig = split_body(
        "We will send feedback by Friday.\n\nThanks, Jane\nRecruiter | Acme\n(555) 123-4567"
    )
    assert new == "We will send feedback by Friday.\n\nThanks, Jane"
    assert sig == "Recruiter | Acme\n(555) 123-4567"


def test_best_regards_is_one_sign_off() -> None:
    new, _, sig = split_body(
        "Great talking today.\n\nBest regards,\nJane Doe\nTalent Partner, Acme\njane@acme.example"
    )
    assert new.endswith("Best regards,\nJane Doe")
    assert sig == "Talent Partner, Acme\njane@acme.example"


def test_postscript_after_sign_off_is_kept() -> None:
    body = (
        "See you Monday.\n\nBest,\nJane\n\n"
        "P.S. Please bring a photo ID to reception because security will ask for it."
    )
    assert split_body(body) == (body, "", "")


def test_thanks_sentence_is_not_a_sign_off() -> None:
    body = "Thank you for applying to Acme.\nWe received your application and will review it."
    assert split_body(body) == (body, "", "")


def test_legal_footer() -> None:
    body = (
        "Hi Sam,\n\nPlease find the offer attached.\n\nThanks,\nAna\n\n"
        "CONFIDENTIALITY NOTICE: This email and any attachments are confidential and intended "
        "solely for the addressee. If you are not the intended recipient, please notify the "
        "sender and delete it."
    )
    new, _, sig = split_body(body)
    assert new.endswith("Please find the offer attached.\n\nThanks,\nAna")
    assert sig.startswith("CONFIDENTIALITY NOTICE")


def test_wrapped_legal_footer_after_rule() -> None:
    body = (
        "Your interview is confirmed.\n\n"
        "----------------------------------------\n"
        "This email and any attachments\n"
        "are confidential. If you are not the intended recipient,\n"
        "any disclosure is prohibited.\n"
    )
    new, _, sig = split_body(body)
    assert new == "Your interview is confirmed."
    assert sig.startswith("-----")


def test_confidential_sentence_without_legal_wording_stays() -> None:
    body = "This message and the attached offer are confidential.\nWe hope you will accept."
    assert split_body(body)[0] == body


def test_unsubscribe_block() -> None:
    body = (
        "New jobs for you:\n- Data Engineer at Foo\n- ML Engineer at Bar\n\n"
        "You are receiving this email because you signed up for job alerts.\n"
        "Unsubscribe | Manage preferences\nJobBoard Inc, 1 Main St, Springfield"
    )
    new, _, sig = split_body(body)
    assert new == "New jobs for you:\n- Data Engineer at Foo\n- ML Engineer at Bar"
    assert sig.startswith("You are receiving this email because")


def test_decision_sentence_mentioning_unsubscribe_is_kept() -> None:
    body = (
        "Hi Sam,\n\nAfter careful consideration we have decided not to move forward with your "
        "application at this time, and you may unsubscribe from our talent updates below."
    )
    assert split_body(body)[0] == body


def test_short_mail_decision_is_never_dropped() -> None:
    for body in (
        "We regret to inform you that the position has been filled.",
        "-- \nWe regret to inform you that the position has been filled.",
        "Unsubscribe\nWe are pleased to offer you the position.",
    ):
        assert "the position" in split_body(body)[0]


_line = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r\n\x1c\x1d\x1e\x85\u2028\u2029\x0b\x0c",
    ),
    max_size=60,
)
_interesting = st.sampled_from(
    [
        "",
        "> quoted",
        "On Mon, Jane wrote:",
        "-- ",
        "Best,",
        "Jane Doe",
        "Sent from my iPhone",
        "From: a",
        "Sent: b",
        "To: c",
        "Subject: d",
        "Unsubscribe",
        "-----Original Message-----",
        "CONFIDENTIALITY NOTICE: intended recipient only",
    ]
)


@given(st.lists(st.one_of(_line, _interesting), max_size=40))
@settings(max_examples=300, deadline=None)
def test_split_body_only_partitions_lines(lines: list[str]) -> None:
    """Whatever the heuristics decide, no line is lost, invented or changed."""
    text = "\n".join(lines)
    parts = split_body(text)
    got = sorted(ln.strip() for part in parts for ln in part.split("\n") if ln.strip())
    assert got == sorted(ln.strip() for ln in lines if ln.strip())
    if any(ln.strip() for ln in lines):
        assert parts[0].strip()


# ---------------------------------------------------------------------------------------------
# model_text
# ---------------------------------------------------------------------------------------------


def test_model_text_format() -> None:
    body = (
        "Hi   Sam,\n\n\n\nBook a slot at https://cal.acme.example/x?y=1 or write to "
        "jane@acme.example\n\nBest,\nJane\nRecruiter | Acme\n+1 555 0100\n\n"
        "On Mon, Sam wrote:\n> hello\n"
    )
    assert model_text("Re:   Interview\n  next week", body) == (
        "Re: Interview next week\n\nHi Sam,\n\nBook a slot at URL or write to EMAIL\n\nBest,\nJane"
    )


def test_model_text_empty_body_is_subject_only() -> None:
    assert model_text("Application received", "") == "Application received"


def test_model_text_cap_on_word_boundary() -> None:
    text = model_text("Subject", "lorem ipsum " * 1000, max_chars=100)
    assert len(text) <= 100
    assert text.endswith(("lorem", "ipsum"))
    assert model_text("s", "x" * 500, max_chars=50) == "s\n\n" + "x" * 47


def test_model_text_default_cap() -> None:
    assert 500 <= MODEL_TEXT_MAX_CHARS <= 5000
    assert len(model_text("s", "word " * 5000)) <= MODEL_TEXT_MAX_CHARS


def test_model_text_drops_invisible_characters() -> None:
    assert model_text("a\u200bb", "c\ufeffd\xa0e") == "ab\n\ncd e"


# ---------------------------------------------------------------------------------------------
# html_to_text
# ---------------------------------------------------------------------------------------------


def test_html_to_text_structure() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        '<div style="display:none">preheader text</div>'
        "<p>Hi&nbsp;Sam,</p><p>We&rsquo;d like to <b>invite</b> you.<br>Slots:</p>"
        "<ul><li>Mon</li><li><p>Tue</p></li></ul>"
        "<table><tr><td>Role</td><td>Engineer</td></tr><tr><td>Team</td></tr></table>"
        "<script>alert('x')</script></body></html>"
    )
    text = html_to_text(html)
    assert text == (
        "Hi Sam,\n\nWe\u2019d like to invite you.\nSlots:\n\n- Mon\n- Tue\n\nRole\tEngineer\nTeam"
    )
    for absent in ("alert", "color", "preheader", "T\n"):
        assert absent not in text


def test_html_blockquote_becomes_quoted_lines() -> None:
    html = (
        "<div>Works for me.</div><div class=gmail_quote>On Mon, Oct 5, 2026, Jane wrote:<br>"
        "<blockquote>Can you do Thursday?<p>Second para</p></blockquote></div>"
    )
    text = html_to_text(html)
    assert "> Can you do Thursday?" in text
    assert split_body(text)[0] == "Works for me."


def test_html_to_text_broken_markup_never_raises() -> None:
    for html in (
        "<p>unclosed <b>bold",
        "<![if !supportLists]>x<!x <? <a href=",
        "</div></div></p>text",
        "<table><td>a<td>b",
        "<<<>>>&&&#;&#xZZ;",
        "<head><title>x</title>no body tag, still text",
    ):
        assert isinstance(html_to_text(html), str)
    assert "still text" in html_to_text("<head><title>x</title></head>still text")


def test_html_unclosed_hidden_element_does_not_eat_the_rest() -> None:
    assert "important text" in html_to_text("<p>Hi <div style='display:none'>important text")


def test_html_pre_keeps_line_breaks() -> None:
    assert html_to_text("<pre>a  b\nc</pre>") == "a b\nc"


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)
