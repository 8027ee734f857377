"""Calls as people really have them, for the transcript readers: not the sandbox's script."""

from __future__ import annotations

# A support-heavy ecommerce shop: a skeptic, euros, a CFO with a name, a next step with a date.
SUPPORT_CALL: list[tuple[str, str]] = [
    ("us", "Hi Dana, great to meet you. Before we dive in, how's your week going?"),
    ("them", "Busy as always! We just closed our quarter."),
    ("us", "Totally. So what prompted you to book this call?"),
    ("them", "Honestly our support inbox is out of control. We get about 300 tickets a week and my two agents "
             "can't keep up. A lot of them are the same five questions about delivery times."),
    ("us", "Got it. And what happens today when a ticket comes in?"),
    ("them", "Someone reads it, copies the order number into Shopify and replies by hand. "
             "It's a lot of copy and paste."),
    ("us", "Have you looked at any tools for this?"),
    ("them", "We tried a chatbot plugin last year but it gave customers wrong answers, so we switched it off. "
             "I'm a bit skeptical about AI to be honest."),
    ("us", "That's fair. We'd run it with an approval step at first, so nothing goes out that your team hasn't "
           "checked, and we measure accuracy before switching it on fully."),
    ("them", "Okay, that would help."),
    ("us", "What kind of budget are you working with?"),
    ("them", "I've got approval for around 15 to 20 thousand euros this year for this."),
    ("us", "And when would you ideally have something in place?"),
    ("them", "Before our peak season, so by the end of September at the latest."),
    ("us", "Who else needs to sign off?"),
    ("them", "Our CFO, Tom Becker, has the final say on anything over ten thousand."),
    ("us", "Makes sense. Here's what I suggest: I'll send you a short proposal by Thursday, and we set up a "
           "30 minute call with you and Tom early next week to go through it."),
    ("them", "That works for me. I'll give Tom a heads up."),
]  # fmt: skip

# A contractor: a monthly budget, a competitor, and a "send it over and we'll see".
QUOTING_CALL: list[tuple[str, str]] = [
    ("us", "Thanks for jumping on, Raj."),
    ("them", "No problem."),
    ("us", "Where are you losing the most time?"),
    ("them", "Quoting. Every quote takes our estimators half a day because they pull prices from three "
             "different spreadsheets."),
    ("us", "What would good look like?"),
    ("them", "Quotes out the same day. We'd love an assistant that drafts them from the job notes."),
    ("us", "Do you have a sense of budget?"),
    ("them", "We could probably do 2k a month, maybe a bit more if it works."),
    ("us", "Great. I'll send over a proposal with two options."),
    ("them", "Sure, send it over and we'll see. No promises though, we're also talking to another agency."),
]  # fmt: skip

# Small talk and nothing else: no need, no budget, no next step.
CHAT_CALL: list[tuple[str, str]] = [
    ("us", "Good to see you again. How was the conference?"),
    ("them", "Great, lots of people talking about AI. We're just curious what's out there."),
    ("us", "Anything in particular you'd like to look at?"),
    ("them", "Not really, we wanted to hear what others in our space are doing."),
    ("us", "Happy to share a few examples. What would be a good next step for you?"),
    ("them", "Let's see. Send me something and I'll take a look."),
]
