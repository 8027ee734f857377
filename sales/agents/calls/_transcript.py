"""A call's transcript: speaker turns with their times, as stored and as read back.

fathom_integration stores the transcript as ``MeetingNote(kind=transcript)``, one turn per line::

    [00:01:05] Mary Smith <mary@brightdental.com>: We were thinking about $10,000.

so a person can read it and the agents can parse it back without losing a turn, a speaker or a
time. Line numbers are the indexes the requirements cite. Which side a speaker is on (ours: the
host; theirs: the prospect and their colleagues) is worked out from the meeting's participants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from crm.models import Mailbox
from crm.services.agency import profile
from integrations.webhooks.inputs import TranscriptLine
from sales.models import Meeting, MeetingNote, MeetingParticipant

Side = Literal["us", "them", "unknown"]
UNKNOWN_SPEAKER = "Unknown speaker"
# A turn may start a little before the recording's stated end; more than this is a bad clock.
END_SLACK_SECONDS = 300
_STORED = re.compile(r"^\[(?P<at>\d{2}:\d{2}:\d{2})\] (?P<speaker>[^<:\n]+?)(?: <(?P<email>[^>\s]+)>)?: (?P<text>.*)$")
_TIME = re.compile(r"^(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,3}):(?P<s>\d{2})(?:[.,]\d+)?$|^(?P<secs>\d+(?:\.\d+)?)$")
_NAME_NOISE = re.compile(r"[<>:\n\r\t]+")


class MalformedTranscript(ValueError):
    """The transcript cannot be read as speaker turns; the message says where."""


@dataclass(frozen=True)
class Turn:
    index: int
    speaker: str
    text: str
    start: int  # seconds from the recording's start
    email: str = ""
    side: Side = "unknown"

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def ours(self) -> bool:
        return self.side == "us"

    @property
    def theirs(self) -> bool:
        return self.side == "them"


def seconds(timestamp: str) -> int | None:
    """``hh:mm:ss``, ``mm:ss`` (fractions allowed) or plain seconds; None if it is none of those."""
    match = _TIME.match(timestamp.strip())
    if match is None:
        return None
    if match["secs"] is not None:
        return int(float(match["secs"]))
    minutes, secs = int(match["m"]), int(match["s"])
    if secs >= 60 or (match["h"] is not None and minutes >= 60):
        return None
    return int(match["h"] or 0) * 3600 + minutes * 60 + secs


def clock_text(total: int) -> str:
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}"


def turns_from_lines(lines: Sequence[TranscriptLine], *, duration: int | None = None) -> list[Turn]:
    """The webhook's lines as turns, or MalformedTranscript saying what is wrong with them.

    Empty lines are dropped and a line without a speaker is kept as the unknown speaker's; but a
    transcript without lines or without any named speaker, or whose timestamps cannot be read, go
    back in time or run past the recording, is refused whole: turns at made-up times would make
    every measure of the call wrong.
    """
    spoken = [line for line in lines if line.text.strip()]
    if not spoken:
        raise MalformedTranscript("the transcript has no spoken lines")
    if not any(line.speaker.strip() for line in spoken):
        raise MalformedTranscript("no line of the transcript names its speaker")
    turns: list[Turn] = []
    previous = 0
    for position, line in enumerate(spoken):
        at = seconds(line.timestamp)
        if at is None:
            raise MalformedTranscript(f"line {position + 1} has an unreadable timestamp {line.timestamp[:40]!r}")
        if at < previous:
            raise MalformedTranscript(
                f"line {position + 1} goes back in time ({clock_text(at)} after {clock_text(previous)})"
            )
        if duration is not None and at > duration + END_SLACK_SECONDS:
            raise MalformedTranscript(
                f"line {position + 1} starts at {clock_text(at)}, after the recording ended ({clock_text(duration)})"
            )
        previous = at
        speaker = " ".join(_NAME_NOISE.sub(" ", line.speaker).split())[:120] or UNKNOWN_SPEAKER
        email = line.speaker_email.strip().lower()
        turns.append(
            Turn(
                index=len(turns),
                speaker=speaker,
                text=" ".join(line.text.split()),
                start=at,
                email=email if "@" in email and not re.search(r"[\s<>]", email) else "",
            )
        )
    return turns


def render(turns: Iterable[Turn]) -> str:
    """The stored form: one line per turn."""
    out = []
    for turn in turns:
        who = f"{turn.speaker} <{turn.email}>" if turn.email else turn.speaker
        out.append(f"[{clock_text(turn.start)}] {who}: {turn.text}")
    return "\n".join(out)


def parse(content: str) -> list[Turn]:
    """Turns back from the stored form (lines that are not turns are skipped: a hand edit)."""
    turns: list[Turn] = []
    for raw in content.splitlines():
        match = _STORED.match(raw.strip())
        if match is None:
            continue
        at = seconds(match["at"]) or 0
        turns.append(
            Turn(
                index=len(turns),
                speaker=match["speaker"].strip(),
                text=match["text"].strip(),
                start=at,
                email=(match["email"] or "").lower(),
            )
        )
    return turns


@dataclass(frozen=True)
class Parties:
    """Who is on which side of a meeting, as far as our records know."""

    our_emails: frozenset[str]
    our_names: frozenset[str]
    their_emails: frozenset[str]
    their_names: frozenset[str]
    agency_name: str
    our_domain: str = ""


def _norm(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s'-]", " ", name.lower()).split())


def _first(name: str) -> str:
    parts = _norm(name).split()
    return parts[0] if parts else ""


def parties(meeting: Meeting) -> Parties:
    agency = profile()
    people = list(MeetingParticipant.objects.filter(meeting=meeting))
    hosts = [p for p in people if p.role == MeetingParticipant.Role.HOST]
    guests = [p for p in people if p.role != MeetingParticipant.Role.HOST]
    our_emails = {p.email.lower() for p in hosts} | {agency.sender_email.lower()}
    our_emails |= {e.lower() for e in Mailbox.objects.values_list("email", flat=True)}
    their_emails = {p.email.lower() for p in guests}
    their_names = {_norm(p.name) for p in guests if p.name}
    lead = meeting.lead
    if lead is not None:
        if lead.email:
            their_emails.add(lead.email.lower())
        if lead.full_name.strip():
            their_names.add(_norm(lead.full_name))
    return Parties(
        our_emails=frozenset(our_emails - their_emails),
        our_names=frozenset({_norm(p.name) for p in hosts if p.name} | {_norm(agency.sender_name)}),
        their_emails=frozenset(their_emails),
        their_names=frozenset(their_names),
        agency_name=_norm(agency.name),
        our_domain=agency.sender_email.lower().rpartition("@")[2],
    )


def _side_of(speaker: str, email: str, who: Parties) -> Side:
    if email:
        if email in who.our_emails:
            return "us"
        if email in who.their_emails:
            return "them"
        return "us" if who.our_domain and email.endswith("@" + who.our_domain) else "them"
    name = _norm(speaker)
    if name in who.our_names or (who.agency_name and who.agency_name in name):
        return "us"
    if name in who.their_names:
        return "them"
    first = _first(speaker)
    ours = {_first(n) for n in who.our_names}
    theirs = {_first(n) for n in who.their_names}
    if first and first in ours and first not in theirs:
        return "us"
    if first and first in theirs and first not in ours:
        return "them"
    return "unknown"


def assign_sides(turns: Sequence[Turn], who: Parties) -> list[Turn]:
    """Each turn with its speaker's side.

    A speaker our records cannot place is the host when no one else is (a two-person call where
    only the prospect was matched), and someone from their side otherwise (a colleague they
    brought). With nobody placed at all, whoever opens the call is taken for the host: the host
    opens the calls they run.
    """
    by_speaker: dict[str, Side] = {}
    for turn in turns:
        if turn.speaker not in by_speaker or by_speaker[turn.speaker] == "unknown":
            side = "unknown" if turn.speaker == UNKNOWN_SPEAKER else _side_of(turn.speaker, turn.email, who)
            by_speaker[turn.speaker] = side
    placed_ours = any(side == "us" for side in by_speaker.values())
    unplaced = [s for s, side in by_speaker.items() if side == "unknown" and s != UNKNOWN_SPEAKER]
    for speaker in unplaced:
        if not placed_ours and (len(unplaced) == 1 or speaker == turns[0].speaker):
            by_speaker[speaker] = "us"
        else:
            by_speaker[speaker] = "them"
    return [replace(turn, side=by_speaker.get(turn.speaker, "unknown")) for turn in turns]


def meeting_transcript(meeting: Meeting) -> tuple[MeetingNote | None, list[Turn]]:
    """The meeting's stored transcript and its turns, each with its side."""
    note = MeetingNote.objects.filter(meeting=meeting, kind=MeetingNote.Kind.TRANSCRIPT).first()
    if note is None:
        return None, []
    return note, assign_sides(parse(note.content), parties(meeting))
