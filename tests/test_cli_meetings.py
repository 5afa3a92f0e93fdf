"""``python -m assistant calendar | meetings | prep`` (``assistant/cli_meetings.py``), run as an operator runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from assistant.config import load_settings
from assistant.dates import short_day
from assistant.factory import get_calendar_service
from tests.fixtures.cli import ROOT, run
from tests.fixtures.fake_calendar_api import FakeGoogleCalendar

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


EVENT_START = NOW + timedelta(hours=3)  # the one event of _one_event_calendar


def _one_event_calendar(path: Path, title: str, length: timedelta, *extra: str) -> Path:
    """An .ics file at ``path`` with one event, ``title``, starting at EVENT_START (``extra``: more lines)."""
    start = EVENT_START
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Test//CLI//EN",
        "BEGIN:VEVENT",
        f"UID:{path.stem}@example.com",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(start + length)}",
        *extra,
        f"SUMMARY:{title}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def _calendar() -> tuple[bytes, dict[str, datetime]]:
    first = NOW - timedelta(days=7) + timedelta(hours=2)  # a weekly series that started last week
    skipped = first + timedelta(days=14)  # cancelled with EXDATE
    moved_from = first + timedelta(days=21)
    moved_to = moved_from + timedelta(hours=3)
    one_off = NOW + timedelta(days=1, hours=1)
    all_day = (NOW + timedelta(days=2)).date()
    text = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//CLI//EN
BEGIN:VEVENT
UID:series-1@example.com
DTSTAMP:20260101T000000Z
DTSTART:{_stamp(first)}
DTEND:{_stamp(first + timedelta(minutes=45))}
RRULE:FREQ=WEEKLY;COUNT=8
EXDATE:{_stamp(skipped)}
SUMMARY:Weekly staff meeting
ATTENDEE;CN=Ada Lovelace;PARTSTAT=ACCEPTED:mailto:ada@example.com
END:VEVENT
BEGIN:VEVENT
UID:series-1@example.com
DTSTAMP:20260101T000000Z
RECURRENCE-ID:{_stamp(moved_from)}
DTSTART:{_stamp(moved_to)}
DTEND:{_stamp(moved_to + timedelta(minutes=45))}
SUMMARY:Weekly staff meeting (moved)
END:VEVENT
BEGIN:VEVENT
UID:customer-call@example.com
DTSTAMP:20260101T000000Z
DTSTART:{_stamp(one_off)}
DTEND:{_stamp(one_off + timedelta(minutes=30))}
SUMMARY:Call with Acme
ATTENDEE;CN=Wile Coyote;PARTSTAT=NEEDS-ACTION:mailto:wile@acme.test
END:VEVENT
BEGIN:VEVENT
UID:cancelled@example.com
DTSTAMP:20260101T000000Z
DTSTART:{_stamp(one_off + timedelta(hours=4))}
DTEND:{_stamp(one_off + timedelta(hours=5))}
STATUS:CANCELLED
SUMMARY:Cancelled offsite
END:VEVENT
BEGIN:VEVENT
UID:holiday@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:{all_day:%Y%m%d}
DTEND;VALUE=DATE:{all_day + timedelta(days=1):%Y%m%d}
SUMMARY:Company holiday
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")
    return text.encode(), {"skipped": skipped, "moved_from": moved_from, "moved_to": moved_to, "one_off": one_off}


def test_import_then_meetings_json_lists_occurrences_one_by_one(tmp_path: Path) -> None:
    data, when = _calendar()
    ics = tmp_path / "work.ics"
    ics.write_bytes(data)
    imported = run(["calendar", "import", str(ics), "--user", "alice"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "work.ics stored for alice" in imported.stdout

    listed = run(["meetings", "--user", "alice", "--days", "30", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    meetings = json.loads(listed.stdout)
    assert set(meetings[0]) == {"id", "title", "start", "end", "all_day", "type", "attendees", "source"}
    starts = [datetime.fromisoformat(m["start"]) for m in meetings]
    assert all(s.tzinfo is not None for s in starts), "ISO 8601 with a UTC offset"
    assert starts == sorted(starts)
    assert {m["source"] for m in meetings} == {"ics_file"}
    titles = [m["title"] for m in meetings]
    assert "Cancelled offsite" not in titles
    assert when["skipped"] not in starts, "an occurrence removed with EXDATE is left out"
    assert when["moved_to"] in starts and when["moved_from"] not in starts, "a moved occurrence at its new time"
    staff = [m for m in meetings if m["title"].startswith("Weekly staff meeting")]
    assert len(staff) >= 3 and len({m["id"] for m in staff}) == len(staff), "each occurrence listed on its own"
    holiday = next(m for m in meetings if m["title"] == "Company holiday")
    assert holiday["all_day"] is True
    call = next(m for m in meetings if m["title"] == "Call with Acme")
    assert call["attendees"] == [{"name": "Wile Coyote", "email": "wile@acme.test"}]

    other = run(["meetings", "--user", "bob", "--days", "7", "--json"], tmp_path)
    assert {m["source"] for m in json.loads(other.stdout)} == {"demo"}, "bob never sees alice's calendar"


def test_bad_files_are_refused_with_a_clear_message_and_nothing_stored(tmp_path: Path) -> None:
    html = tmp_path / "export.ics"
    html.write_text("<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>")
    big = tmp_path / "huge.ics"
    big.write_bytes(b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * 6_000_000 + b"\r\nEND:VCALENDAR\r\n")
    for path in (html, big, tmp_path / "missing.ics"):
        result = run(["calendar", "import", str(path), "--user", "alice"], tmp_path)
        assert result.returncode == 2, result.stdout
        assert "\nerror: " in "\n" + result.stderr and "Traceback" not in result.stderr
    assert "MB" in run(["calendar", "import", str(big), "--user", "alice"], tmp_path).stderr
    listed = run(["meetings", "--user", "alice", "--json"], tmp_path)
    assert {m["source"] for m in json.loads(listed.stdout)} == {"demo"}


def test_a_calendar_from_an_endless_stream_is_refused_at_the_limit(tmp_path: Path) -> None:
    """``calendar import /dev/stdin`` (or ``<(curl …)``, a FIFO, /dev/zero) has no size to check
    beforehand: the file was read whole, without end for an endless stream, until the memory ran
    out (a MemoryError traceback here, under a 2 GB limit). It is read up to the limit and refused."""
    import resource
    import subprocess
    import sys

    def two_gigabytes() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {**os.environ, "ENV": "local", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    env.update(ASSISTANT_SECRETS_FILE=os.devnull)
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "calendar", "import", "/dev/zero", "--user", "alice"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=two_gigabytes,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "MB" in result.stderr, result.stderr


def test_importing_a_calendar_with_nothing_ahead_warns_that_it_covers_the_wrong_period(tmp_path: Path) -> None:
    """An export of last quarter was stored with "0 meetings in the next 7 days" and nothing more,
    where the page warns that the file has no meetings ahead (CALENDAR_DAYS_AHEAD)."""
    past = _one_event_calendar(tmp_path / "last-quarter.ics", "Old review", timedelta(hours=1))
    text = past.read_text()
    for moment in (EVENT_START, EVENT_START + timedelta(hours=1)):  # its start and end, 40 days ago
        text = text.replace(_stamp(moment), _stamp(moment - timedelta(days=40)))
    past.write_text(text)
    imported = run(["calendar", "import", str(past), "--user", "alice"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "last-quarter.ics stored for alice" in imported.stdout
    assert "warning: last-quarter.ics has no meetings in the next 60 days" in imported.stderr, imported.stderr
    assert "covers the coming weeks" in imported.stderr

    current = _one_event_calendar(tmp_path / "current.ics", "Board prep", timedelta(hours=1))
    imported = run(["calendar", "import", str(current), "--user", "alice"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "no meetings in the next" not in imported.stderr, imported.stderr


def test_prep_materials_come_from_the_users_own_calendar(tmp_path: Path) -> None:
    data, _ = _calendar()
    ics = tmp_path / "work.ics"
    ics.write_bytes(data)
    assert run(["calendar", "import", str(ics), "--user", "alice"], tmp_path).returncode == 0
    meetings = json.loads(run(["meetings", "--user", "alice", "--days", "7", "--json"], tmp_path).stdout)
    call = next(m for m in meetings if m["title"] == "Call with Acme")

    prep = run(["prep", call["id"], "--user", "alice"], tmp_path)
    assert prep.returncode == 0, prep.stderr
    assert "Call with Acme" in prep.stdout and "Agenda" in prep.stdout and "Wile Coyote" in prep.stdout

    docx = tmp_path / "acme.docx"
    written = run(["prep", call["id"], "--user", "alice", "--format", "docx", "--output", str(docx)], tmp_path)
    assert written.returncode == 0, written.stderr
    assert docx.read_bytes()[:2] == b"PK"

    refused = run(["prep", call["id"], "--user", "bob"], tmp_path)  # bob sees the demo calendar only
    assert refused.returncode == 2 and "no meeting with id" in refused.stderr


def test_meetings_counts_read_as_words(tmp_path: Path) -> None:
    ics = _one_event_calendar(tmp_path / "one.ics", "Board prep", timedelta(hours=1))
    imported = run(["calendar", "import", str(ics), "--user", "carol"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "stored for carol: 1 meeting in the next 7 days" in imported.stdout
    listed = run(["meetings", "--user", "carol", "--days", "1"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].endswith(": 1 meeting in the next 1 day"), listed.stdout


def test_import_names_the_events_it_left_out_as_the_page_does(tmp_path: Path) -> None:
    """A calendar whose only event repeats every minute was stored with "0 meetings in the next 7
    days" and no word why; the page (and ``meetings``) said the event was left out."""
    ics = _one_event_calendar(tmp_path / "minutely.ics", "Every minute", timedelta(minutes=30), "RRULE:FREQ=MINUTELY")
    imported = run(["calendar", "import", str(ics), "--user", "carol"], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "stored for carol: 0 meetings in the next 7 days" in imported.stdout
    assert imported.stderr.startswith("warning: “Every minute” repeats more often"), imported.stderr
    assert "left out" in imported.stderr and "Traceback" not in imported.stderr


def test_disconnect_says_what_it_forgot_and_takes_no_file(tmp_path: Path) -> None:
    """It said "calendar disconnected" with nothing connected, and took a FILE it then ignored."""
    data, _ = _calendar()
    ics = tmp_path / "work.ics"
    ics.write_bytes(data)
    assert run(["calendar", "import", str(ics), "--user", "alice"], tmp_path).returncode == 0
    stray = run(["calendar", "disconnect", str(ics), "--user", "alice"], tmp_path)
    assert stray.returncode == 2 and "takes no FILE" in stray.stderr
    done = run(["calendar", "disconnect", "--user", "alice"], tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("work.ics") and "disconnected for alice" in done.stdout
    again = run(["calendar", "disconnect", "--user", "alice"], tmp_path)
    assert again.returncode == 0 and "alice had no calendar connected" in again.stdout


def test_disconnecting_a_google_calendar_revokes_the_grant_as_the_page_does(
    tmp_path: Path, fake_calendar_api: FakeGoogleCalendar
) -> None:
    """The CLI deleted the token but left the grant alive at Google (docs: Disconnect revokes it)."""
    env = {
        "GOOGLE_REVOKE_URL": fake_calendar_api.url + "/revoke",
        "CALENDAR_ENCRYPTION_KEY": "q5Bn3GZ3fRZ1cH5dVmYk0o0o8w4zM8d2yVq1yq8Qm1E=",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "cli.db"),
    }
    token = fake_calendar_api.issue_refresh_token()
    settings = load_settings(
        env="local",
        database_url=env["DATABASE_URL"],
        calendar_encryption_key=env["CALENDAR_ENCRYPTION_KEY"],
        google_revoke_url=env["GOOGLE_REVOKE_URL"],
    )
    get_calendar_service(settings).connect_google("alice", token, "ada@example.com")
    done = run(["calendar", "disconnect", "--user", "alice"], tmp_path, **env)
    assert done.returncode == 0 and "disconnected for alice" in done.stdout, done.stderr
    assert fake_calendar_api.is_revoked(token)


def _import_board_prep(tmp_path: Path) -> datetime:
    """Import, for user dana, a calendar of one meeting ("Board prep") starting in 3 hours; its start."""
    ics = _one_event_calendar(tmp_path / "one.ics", "Board prep", timedelta(hours=1))
    assert run(["calendar", "import", str(ics), "--user", "dana"], tmp_path).returncode == 0
    return EVENT_START


def test_meetings_shows_times_in_the_zone_asked(tmp_path: Path) -> None:
    """meetings had no --tz: its times were UTC only, where prep took --tz."""
    start = _import_board_prep(tmp_path)  # dana's one meeting, in 3 hours
    tokyo = run(["meetings", "--user", "dana", "--days", "1", "--tz", "Asia/Tokyo", "--json"], tmp_path)
    assert tokyo.returncode == 0, tokyo.stderr
    [meeting] = json.loads(tokyo.stdout)
    assert meeting["start"] == start.astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
    text = run(["meetings", "--user", "dana", "--days", "1", "--tz", "Asia/Tokyo"], tmp_path)
    assert f"{start.astimezone(ZoneInfo('Asia/Tokyo')).isoformat()}  " in text.stdout, text.stdout


def test_prep_lists_the_next_meetings_at_the_times_of_the_zone_asked(tmp_path: Path) -> None:
    """For an unknown id, prep listed the next meetings without saying which zone their times are in."""
    start = _import_board_prep(tmp_path)  # dana's one meeting, in 3 hours
    listed = run(["prep", "no-such-meeting", "--user", "dana", "--days", "1", "--tz", "Asia/Tokyo"], tmp_path)
    assert listed.returncode == 2
    tokyo = start.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{short_day(tokyo)} {tokyo:%H:%M}  Board prep" in listed.stderr, listed.stderr
    assert "times in Asia/Tokyo" in listed.stderr


def test_chat_tells_times_in_the_zone_asked_and_knows_your_colleagues(tmp_path: Path) -> None:
    """chat had neither --tz nor --email where meetings and prep have both: a New York executive read
    their 1:1 at its UTC time, with no zone named, typed "Customer/external" (with no email, every
    colleague is outside the company), when the page says 1:1 at the local time."""
    start = NOW + timedelta(hours=3)
    ics = tmp_path / "mine.ics"
    ics.write_bytes(
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//CLI//EN\r\nBEGIN:VEVENT\r\nUID:dana-1on1@corp.test\r\n"
            f"DTSTART:{_stamp(start)}\r\nDTEND:{_stamp(start + timedelta(minutes=30))}\r\n"
            "SUMMARY:Catch-up with Sam\r\n"
            "ATTENDEE;CN=Sam Ortiz;PARTSTAT=ACCEPTED:mailto:sam.ortiz@corp.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ).encode()
    )
    assert run(["calendar", "import", str(ics), "--user", "dana"], tmp_path).returncode == 0
    args = ["chat", "--user", "dana", "--tz", "America/New_York", "--email", "dana@corp.test"]

    chat = run(args, tmp_path, stdin="What meetings do I have in the next two days?\n/quit\n")

    assert chat.returncode == 0, chat.stderr
    local = start.astimezone(ZoneInfo("America/New_York"))
    line = next(x for x in chat.stdout.splitlines() if "Catch-up with Sam" in x)
    assert f"{short_day(local)}, {local:%H:%M}" in line and "1:1" in line, line
    bad = run(["chat", "--tz", "Mars/Olympus"], tmp_path, stdin="/quit\n")
    assert bad.returncode == 2 and "is not a time zone" in bad.stderr


def test_an_all_day_event_is_listed_as_a_day_not_a_meeting_at_midnight(tmp_path: Path) -> None:
    """meetings printed a company holiday as '2026-12-08T00:00:00+13:00' and prep's list as
    'Tue 08 Dec 00:00': a meeting at midnight, to its reader."""
    data, _ = _calendar()
    ics = tmp_path / "work.ics"
    ics.write_bytes(data)
    assert run(["calendar", "import", str(ics), "--user", "alice"], tmp_path).returncode == 0
    day = (NOW + timedelta(days=2)).date()
    listed = run(["meetings", "--user", "alice", "--days", "7", "--tz", "Pacific/Auckland"], tmp_path)
    [holiday] = [line for line in listed.stdout.splitlines() if "Company holiday" in line]
    assert holiday.startswith(f"{day:%Y-%m-%d} all day "), listed.stdout
    prep = run(["prep", "no-such-meeting", "--user", "alice", "--tz", "Pacific/Auckland"], tmp_path)
    assert f"{short_day(day)} all day  Company holiday" in prep.stderr, prep.stderr


def test_meetings_of_the_dev_user_know_their_colleagues_as_prep_and_chat_do(tmp_path: Path) -> None:
    """meetings took no TEST_USER_EMAIL for TEST_USER_ID where prep and chat do: the weekly staff
    meeting with a colleague read 'external' there and '1:1' on the page."""
    data, _ = _calendar()
    ics = tmp_path / "work.ics"
    ics.write_bytes(data)
    assert run(["calendar", "import", str(ics)], tmp_path, TEST_USER_EMAIL="me@example.com").returncode == 0
    listed = run(["meetings", "--days", "14", "--json"], tmp_path, TEST_USER_EMAIL="me@example.com")
    staff = {m["type"] for m in json.loads(listed.stdout) if m["title"] == "Weekly staff meeting"}
    assert staff == {"one_on_one"}, listed.stdout


def test_prep_writes_markdown_materials_with_saved_prep_answers(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from assistant.context.prep_notes import save_prep_response
    from assistant.db import make_engine
    from assistant.migrate import upgrade

    engine = make_engine("sqlite:///" + str(tmp_path / "cli.db"))
    upgrade(engine)
    save_prep_response(
        engine,
        user_id="test-user-123",
        meeting_id="acme-qbr",
        topic="Key message",
        response="Both P1 escalations are closed.",
        now=datetime.now(UTC),
    )
    engine.dispose()

    result = run(["prep", "acme-qbr", "--user", "test-user-123"], tmp_path)
    assert result.returncode == 0, result.stderr
    md = result.stdout
    assert md.startswith("# Quarterly Business Review - Acme Corp\n")
    assert "Customer/external (prepare 24 h ahead)" in md
    assert "## Agenda" in md and "| 14:00–" in md
    assert "What is the one outcome you want them to agree to before the meeting ends?" in md
    assert "> Both P1 escalations are closed." in md, "the saved prep answer is quoted"
    assert "of people's time" in md and "- [ ] Action" in md

    other_user = run(["prep", "acme-qbr", "--user", "someone-else"], tmp_path)
    assert other_user.returncode == 0 and "Both P1 escalations" not in other_user.stdout


def test_prep_writes_docx_to_a_file_or_a_redirected_stdout(tmp_path: Path) -> None:
    import io

    from docx import Document

    out = tmp_path / "board.docx"
    result = run(["prep", "board-prep", "--format", "docx", "--output", str(out), "--tz", "Europe/Paris"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "Board Meeting Prep"
    assert [c.text for c in doc.tables[0].rows[0].cells] == ["Time", "Item", "Owner", "Purpose"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Board (prepare 48 h ahead)" in text
    assert re.search(r"\d\d:\d\d–\d\d:\d\d CES?T", text), "times shown in the zone asked for"

    piped = subprocess.run(
        [sys.executable, "-m", "assistant", "prep", "board-prep", "--format", "docx"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "MODEL_PROVIDER"},
            "ENV": "local",
            "DATABASE_URL": "sqlite:///" + str(tmp_path / "cli.db"),
            "ASSISTANT_SECRETS_FILE": os.devnull,
        },
        capture_output=True,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert Document(io.BytesIO(piped.stdout)).paragraphs[0].text == "Board Meeting Prep"


def test_prep_does_not_overwrite_a_file_without_force(tmp_path: Path) -> None:
    """``prep --output notes.md`` replaced an existing file (say, the notes written after the last
    board meeting) without a word. It is now refused unless --force is given."""
    out = tmp_path / "notes.md"
    out.write_text("my notes from last quarter\n")
    refused = run(["prep", "board-prep", "--output", str(out)], tmp_path)
    assert refused.returncode == 2 and "already exists; give --force" in refused.stderr, refused.stderr
    assert out.read_text() == "my notes from last quarter\n"
    forced = run(["prep", "board-prep", "--output", str(out), "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert out.read_text().startswith("# Board Meeting Prep")


def test_prep_for_an_unknown_meeting_lists_the_next_ids(tmp_path: Path) -> None:
    result = run(["prep", "no-such-meeting", "--days", "14"], tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "there is no meeting with id 'no-such-meeting'" in result.stderr
    empty = run(["prep", ""], tmp_path)  # it read "there is no meeting with id . Use one of..."
    assert empty.returncode == 2 and "there is no meeting with id ''. Use one of the ids below" in empty.stderr
    assert "acme-qbr" in result.stderr and "board-prep" in result.stderr and "next 14 days" in result.stderr
    hostile = run(["prep", "x\n2026-01-01 forged"], tmp_path)
    assert hostile.returncode == 2 and "\n2026-01-01 forged" not in hostile.stderr
    bad_zone = run(["prep", "acme-qbr", "--tz", "Mars/Olympus"], tmp_path)
    assert bad_zone.returncode == 2 and "is not a time zone" in bad_zone.stderr
