"""Replies written by hand the way real prospects write (see scripts/build_reply_sample.py).

Relative dates ("until Friday") are labelled as seen from a reply received on Monday 3 March 2025.
Our own outgoing email is quoted below many replies on purpose: its footer says "unsubscribe" and
"stop", so a classifier that reads quotes would call every reply an opt-out.
"""

from __future__ import annotations


def _gmail(first: str) -> str:
    return (
        "\n\nOn Mon, Mar 3, 2025 at 9:14 AM Anna Berg <anna@smarterteam.io> wrote:\n"
        f"> Hi {first},\n>\n"
        "> Saw that you're hiring two more coordinators. We build AI assistants that take\n"
        "> lead follow-up off a team's plate. Worth a 15-minute call?\n>\n> Anna\n"
        '> Not interested? Reply "stop" or unsubscribe here: https://smarterteam.io/u/abc\n'
    )


def _outlook(first: str) -> str:
    return (
        "\n\n________________________________\n"
        "From: Anna Berg <anna@smarterteam.io>\nSent: Monday, March 3, 2025 9:14 AM\n"
        f"To: {first} <{first.lower()}@example.com>\nSubject: Quick question about follow-ups\n\n"
        f"Hi {first},\n\nWe help teams like yours automate lead follow-up with AI.\n"
        "Open to a quick chat?\n\nAnna\nTo stop receiving these emails, unsubscribe here.\n"
    )


def _de_quote() -> str:
    return (
        "\n\nAm Mo., 3. März 2025 um 09:14 Uhr schrieb Anna Berg <anna@smarterteam.io>:\n"
        "> Hallo,\n> wir automatisieren Follow-ups mit KI. Kurzes Gespräch?\n> Abmelden: https://smarterteam.io/u/x\n"
    )


def _fr_quote() -> str:
    return (
        "\n\nLe lun. 3 mars 2025 à 09:14, Anna Berg <anna@smarterteam.io> a écrit :\n"
        "> Bonjour,\n> Nous automatisons le suivi des prospects. Un appel rapide ?\n"
    )


def _es_quote() -> str:
    return (
        "\n\nEl lun, 3 mar 2025 a las 9:14, Anna Berg (<anna@smarterteam.io>) escribió:\n"
        "> Hola,\n> Automatizamos el seguimiento de clientes potenciales. ¿Una llamada?\n"
    )


IPHONE = "\n\nSent from my iPhone"
R = "return_date"

HANDWRITTEN: list[dict[str, object]] = [
    # ---- interested
    {"intent": "interested", "text": "yes pls send over some times for thursday or friday" + IPHONE + _gmail("Tom")},
    {
        "intent": "interested",
        "text": "Hi Anna,\n\nThis is actually timely - we lost two coordinators last month. "
        "Happy to jump on a call. Tuesday after 2pm works.\n\nBest,\nKaren\n\nKaren Lopez | COO\nBrightline Dental\n"
        "+1 512 555 0199" + _gmail("Karen"),
    },
    {
        "intent": "interested",
        "text": "Sure, let's talk. Here's my calendly: https://calendly.com/mike-ops/30min" + _outlook("Mike"),
    },
    {"intent": "interested", "text": "Sounds good. Can you do 10am CET tomorrow?\n\n--\nLuca Rossi\nKestrel Labs"},
    {
        "intent": "interested",
        "text": "Hey - yes this is on our list for Q2 actually. Would love to see a demo. "
        "Loop in my colleague Priya too (cc'd).\n\nThx\nOmar" + _gmail("Omar"),
    },
    {"intent": "interested", "text": "Ok im intrested. whats the next step?" + IPHONE},
    {"intent": "interested", "text": "Let's do it. Book something in for next week, any afternoon is fine."},
    {
        "intent": "interested",
        "text": "Gerne! Können wir nächste Woche telefonieren? Dienstag oder Mittwoch "
        "vormittag passt mir gut.\n\nViele Grüße\nJonas Weber" + _de_quote(),
    },
    {
        "intent": "interested",
        "text": "Bonjour Anna,\n\nOui, ça m'intéresse. Pouvons-nous prévoir un appel "
        "jeudi ?\n\nCordialement,\nClaire Martin" + _fr_quote(),
    },
    {
        "intent": "interested",
        "text": "Hola Anna, sí me interesa. ¿Podemos hablar el miércoles por la tarde?\n\n"
        "Saludos,\nMateo" + _es_quote(),
    },
    {
        "intent": "interested",
        "text": "Good timing. Send me a calendar invite for Wed 3pm ET and we can chat." + _outlook("Sarah"),
    },
    {"intent": "interested", "text": "yeah I'd be up for a call. my number is 415-555-0143, mornings are best"},
    {
        "intent": "interested",
        "text": "I'm interested - we've been trying to fix exactly this. When are you free "
        "this week?\n\nRegards\nDavid\n\nDavid Chen\nHead of Growth | Northwind Logistics\nwww.northwind.example",
    },
    {"intent": "interested", "text": "Would be keen to learn more. Could we set up 20 min on Friday?" + IPHONE},
    {
        "intent": "interested",
        "text": "Absolutely, grab a slot here and I'll make it work: https://cal.com/jessica-w" + _gmail("Jessica"),
    },
    {
        "intent": "interested",
        "text": "This looks promising! Lets set up a demo for me and our ops lead.\n\n"
        "Cheers,\nSofia" + _outlook("Sofia"),
    },
    {"intent": "interested", "text": "Yes, please call me on Monday. I'm at my desk from 8."},
    {
        "intent": "interested",
        "text": "Count me in for a call - what times work for you next week?\n\n"
        "Best regards,\nWei Zhang\nOperations Manager" + _gmail("Wei"),
    },
    # ---- question
    {"intent": "question", "text": "What does this cost roughly? Per month or per project?" + IPHONE + _gmail("Ana")},
    {
        "intent": "question",
        "text": "Hi,\n\nDo you integrate with HubSpot? We live in there and I won't add "
        "another tool.\n\nThanks\nNoah" + _outlook("Noah"),
    },
    {"intent": "question", "text": "How is this different from just using ChatGPT ourselves?"},
    {
        "intent": "question",
        "text": "Who else in the dental space are you working with? Any references I could "
        "call?\n\n--\nDr. Patel\nPatel Family Dentistry",
    },
    {
        "intent": "question",
        "text": "Where is our data stored? We're under GDPR so it would need to stay in the EU." + _gmail("Lena"),
    },
    {"intent": "question", "text": "can you send pricing? and is there a contract or month to month" + IPHONE},
    {
        "intent": "question",
        "text": "Wie lange dauert die Einrichtung und was kostet das ungefähr?\n\nGruß\nKatrin" + _de_quote(),
    },
    {
        "intent": "question",
        "text": "Quel est le tarif et combien de temps faut-il pour la mise en place ?\n\nMerci,\nJulien" + _fr_quote(),
    },
    {"intent": "question", "text": "¿Cuánto cuesta y trabajan con empresas en México?" + _es_quote()},
    {
        "intent": "question",
        "text": "Quick q before I loop anyone in - do you need access to our email accounts for this to work?",
    },
    {
        "intent": "question",
        "text": "What kind of results have you seen? Like actual numbers, not marketing "
        "speak.\n\nRgds,\nMark" + _outlook("Mark"),
    },
    {"intent": "question", "text": "Do you have a one-pager or a deck I can forward to my partner?"},
    {
        "intent": "question",
        "text": "How long does onboarding take and how much of my teams time does it need?" + _gmail("Chloe"),
    },
    {"intent": "question", "text": "Is this a SaaS or do you build custom? And who owns the code afterwards?"},
    {
        "intent": "question",
        "text": "hi anna what exactly do u mean by AI assistant? does it answer the phone too?" + IPHONE,
    },
    {
        "intent": "question",
        "text": "Can you share a case study from a company about our size (40 people)?\n\n"
        "Best,\nRobert Novak\nVP Operations" + _gmail("Robert"),
    },
    # ---- objection
    {
        "intent": "objection",
        "text": "We tried something like this last year and it was a disaster, the bot "
        "sent nonsense to our clients. Why would yours be different?" + _gmail("Fatima"),
    },
    {"intent": "objection", "text": "Honestly we don't have budget for this. We're a 12 person firm." + IPHONE},
    {
        "intent": "objection",
        "text": "Our clients expect to talk to a human. I don't think AI fits our "
        "business.\n\nKind regards,\nHarriet" + _outlook("Harriet"),
    },
    {
        "intent": "objection",
        "text": "We already have an in-house developer building automations, so I'm not sure what you'd add.",
    },
    {"intent": "objection", "text": "Sounds expensive. Agencies always promise ROI and then it never shows up."},
    {
        "intent": "objection",
        "text": "We use Salesforce and IT won't approve any third party touching it." + _gmail("Ian"),
    },
    {
        "intent": "objection",
        "text": "Wir arbeiten bereits mit einer Agentur zusammen und sind zufrieden. "
        "Was wäre der Vorteil bei Ihnen?\n\nMfG\nS. Keller" + _de_quote(),
    },
    {
        "intent": "objection",
        "text": "C'est trop cher pour une structure comme la nôtre, et nous avons déjà un prestataire." + _fr_quote(),
    },
    {"intent": "objection", "text": "Ya trabajamos con otra agencia y estamos contentos con ellos." + _es_quote()},
    {
        "intent": "objection",
        "text": "I'm worried about security. We handle patient records and can't risk a "
        "leak.\n\n-- \nMaria Gomez\nPractice Manager",
    },
    {
        "intent": "objection",
        "text": "My team is already stretched, we don't have time to learn a new system." + _outlook("Pat"),
    },
    {"intent": "objection", "text": "we're happy with our current setup tbh. whats in it for us?" + IPHONE},
    {
        "intent": "objection",
        "text": "The last AI vendor we used locked us into a 2 year contract. Not doing that again.",
    },
    {
        "intent": "objection",
        "text": "I don't see how this pays off for a business our size, our margins are thin." + _gmail("Greg"),
    },
    # ---- not_now
    {
        "intent": "not_now",
        "text": "Maybe later in the year. We're heads down on a migration until summer." + _gmail("Hiro"),
    },
    {"intent": "not_now", "text": "Bad timing - we just froze budgets for Q2. Try me again in Q3?" + IPHONE},
    {
        "intent": "not_now",
        "text": "Not right now, but keep me posted. Ping me again in September.\n\nBest,\nLinda" + _outlook("Linda"),
    },
    {
        "intent": "not_now",
        "text": "We're in the middle of an acquisition, nothing new until that's closed. Circle back in 6 months.",
    },
    {"intent": "not_now", "text": "Interesting but timing isn't right. Reach out after tax season (May?)"},
    {
        "intent": "not_now",
        "text": "Aktuell leider kein Thema, gerne im Herbst nochmal melden.\n\nBeste Grüße\nTim" + _de_quote(),
    },
    {"intent": "not_now", "text": "Pas pour le moment, recontactez-moi en septembre." + _fr_quote()},
    {
        "intent": "not_now",
        "text": "Ahora mismo no es buen momento, escríbeme de nuevo el próximo trimestre." + _es_quote(),
    },
    {
        "intent": "not_now",
        "text": "Hey, we just hired someone for ops so let's revisit early next year." + _gmail("Amara"),
    },
    {"intent": "not_now", "text": "Not a priority this quarter. Feel free to follow up in a few months." + IPHONE},
    {
        "intent": "not_now",
        "text": "We're launching a new location in April, way too busy till then. After that maybe.\n\nThanks,\nJoe",
    },
    {
        "intent": "not_now",
        "text": "Could be relevant down the road but not this year unfortunately." + _outlook("Nancy"),
    },
    {"intent": "not_now", "text": "ask me again after the summer, we're stretched thin right now"},
    # ---- not_interested
    {"intent": "not_interested", "text": "No thanks." + IPHONE + _gmail("Dan")},
    {"intent": "not_interested", "text": "We're good, thank you." + _outlook("Mary")},
    {"intent": "not_interested", "text": "Not for us. Good luck though!"},
    {"intent": "not_interested", "text": "Appreciate the note but we won't be needing this.\n\nRegards,\nBarbara"},
    {"intent": "not_interested", "text": "Kein Interesse, danke." + _de_quote()},
    {"intent": "not_interested", "text": "Non merci, ça ne nous intéresse pas." + _fr_quote()},
    {"intent": "not_interested", "text": "No nos interesa, gracias." + _es_quote()},
    {
        "intent": "not_interested",
        "text": "Pass. We don't use AI for client work as a matter of policy." + _gmail("Joseph"),
    },
    {"intent": "not_interested", "text": "Thanks but no. We're not looking for this kind of service." + IPHONE},
    {"intent": "not_interested", "text": "Hi Anna - not something we'd consider. All the best.\n\nThomas"},
    {"intent": "not_interested", "text": "not interested" + _outlook("Lisa")},
    {"intent": "not_interested", "text": "I'll pass, thanks for thinking of us."},
    {"intent": "not_interested", "text": "nope, we do this ourselves and it works fine" + IPHONE},
    {
        "intent": "not_interested",
        "text": "We have decided not to move forward with any outside vendors for this. "
        "Thank you for your time.\n\nBest regards,\nSandra Young\nOffice Manager" + _gmail("Sandra"),
    },
    # ---- out_of_office
    {
        "intent": "out_of_office",
        R: "2025-03-12",
        "text": "I am out of the office and will be back on 12 March. "
        "For urgent matters please contact office@brightline.example.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-14",
        "text": "Thank you for your message. I'm travelling until 3/14 with limited access to email.",
    },
    {
        "intent": "out_of_office",
        R: "2025-06-02",
        "text": "Hi, I'm on parental leave, returning Monday 2 June. "
        "In the meantime please reach out to Jamie (jamie@kestrel.example).",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-10",
        "text": "Automatic reply: I'm out of office until 2025-03-10 and will respond when I'm back.",
    },
    {"intent": "out_of_office", R: "2025-03-07", "text": "I'm away until Friday and will reply on my return."},
    {
        "intent": "out_of_office",
        R: "2025-03-17",
        "text": "Ich bin bis zum 17.03.2025 nicht im Büro und habe "
        "keinen Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an info@weber.example.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-24",
        "text": "Vielen Dank für Ihre Nachricht. Ich bin ab dem 24. März wieder im Büro.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-12",
        "text": "Je suis absent du bureau jusqu'au 11 mars inclus. En cas d'urgence, contactez mon collègue.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-20",
        "text": "Bonjour, je suis actuellement en congé et serai de retour le 20 mars.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-18",
        "text": "Estoy fuera de la oficina hasta el 18 de marzo. Responderé a su correo a mi regreso.",
    },
    {
        "intent": "out_of_office",
        "text": "Gracias por su mensaje. Me encuentro de vacaciones con acceso limitado al correo.",
    },
    {
        "intent": "out_of_office",
        "text": "I'm currently out of the office with no access to email. Your message will not be forwarded.",
    },
    {
        "intent": "out_of_office",
        R: "2025-04-01",
        "text": "Out of office: back April 1st. For anything urgent "
        "call the front desk on 555-0100.\n\nThanks,\nRichard",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-05",
        "text": "I'm at a conference until Wednesday, March 5th, and will be slow to reply.",
    },
    {
        "intent": "out_of_office",
        "text": "Hello, I no longer work at Oakridge Realty. Please contact info@oakridge.example for any enquiries.",
        "referral": {"name": "", "email": "info@oakridge.example"},
    },
    {
        "intent": "out_of_office",
        R: "2025-03-31",
        "text": "Ich bin im Urlaub und ab dem 31.3. wieder erreichbar.\n\nMit freundlichen Grüßen\nPetra Schulz",
    },
    {
        "intent": "out_of_office",
        "text": "Je suis en déplacement avec un accès limité à mes e-mails. Je vous répondrai dès que possible.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-10",
        "text": "Thanks for your email! I'm OOO on a family trip and returning on Monday 10 March. Talk then.",
    },
    {"intent": "out_of_office", R: "2025-03-21", "text": "Auto-reply: I am on annual leave until 21/03/2025."},
    {"intent": "out_of_office", R: "2025-04-07", "text": "Estaré de vacaciones hasta el 7 de abril."},
    # ---- referral
    {
        "intent": "referral",
        "referral": {"name": "Jennifer Walker", "email": "jennifer.walker@northwind.example"},
        "text": "Hey, this would be Jennifer Walker's area - she runs ops. jennifer.walker@northwind.example"
        + _gmail("Bob"),
    },
    {
        "intent": "referral",
        "referral": {"name": "Sam Ortiz", "email": ""},
        "text": "I'm not the one who handles "
        "this. You'd want to speak with Sam Ortiz, our head of operations." + IPHONE,
    },
    {
        "intent": "referral",
        "referral": {"name": "Michael", "email": "michael@harborfinch.example"},
        "text": "Wrong person, sorry. Try Michael (michael@harborfinch.example), he owns our tooling.\n\nJess"
        + _outlook("Jess"),
    },
    {
        "intent": "referral",
        "referral": {"name": "", "email": "it@pinecrest.example"},
        "text": "Please reach out to our IT team at it@pinecrest.example, they decide on these things.",
    },
    {
        "intent": "referral",
        "referral": {"name": "Frau Becker", "email": "becker@weber-gmbh.example"},
        "text": "Dafür ist Frau Becker zuständig: becker@weber-gmbh.example\n\nGruß\nM. Weber" + _de_quote(),
    },
    {
        "intent": "referral",
        "referral": {"name": "Pierre Dubois", "email": "pierre.dubois@lumiere.example"},
        "text": "Je ne suis pas la bonne personne. Contactez plutôt Pierre Dubois (pierre.dubois@lumiere.example)."
        + _fr_quote(),
    },
    {
        "intent": "referral",
        "referral": {"name": "Lucía Fernández", "email": "lucia@solara.example"},
        "text": "No soy la persona adecuada, por favor contacta a Lucía Fernández: lucia@solara.example" + _es_quote(),
    },
    {
        "intent": "referral",
        "referral": {"name": "Emily Clark", "email": "emily.clark@velofit.example"},
        "text": "I've cc'd Emily Clark who looks after marketing and automation - Emily, over to you.\n\n"
        "Cheers,\nAnthony" + _gmail("Anthony"),
    },
    {
        "intent": "referral",
        "referral": {"name": "Chris Allen", "email": "c.allen@summitroofing.example"},
        "text": "Not my department but forwarding to Chris Allen (c.allen@summitroofing.example) who might be "
        "interested.",
    },
    {
        "intent": "referral",
        "referral": {"name": "Rachel", "email": ""},
        "text": "You should talk to Rachel, our COO. She's the decision maker here." + _outlook("Ben"),
    },
    {
        "intent": "referral",
        "referral": {"name": "Hannah King", "email": "hannah@greenleaf.example"},
        "text": "i left greenleaf last month, hannah king (hannah@greenleaf.example) took over my role",
    },
    {
        "intent": "referral",
        "referral": {"name": "Elizabeth Moore", "email": "emoore@oakridge.example"},
        "text": "Elizabeth Moore is the right contact for this - emoore@oakridge.example. I've let her know to "
        "expect your email." + IPHONE,
    },
    # ---- unsubscribe
    {"intent": "unsubscribe", "text": "remove me" + IPHONE + _gmail("Jim")},
    {"intent": "unsubscribe", "text": "STOP"},
    {"intent": "unsubscribe", "text": "Take me off your list please." + _outlook("Paula")},
    {"intent": "unsubscribe", "text": "Please don't email me again."},
    {
        "intent": "unsubscribe",
        "text": "How did you get my address? Delete my data and stop contacting me. "
        "This is a GDPR request.\n\nR. Haddad" + _gmail("Rami"),
    },
    {"intent": "unsubscribe", "text": "Not interested, please remove me from your mailing list." + _outlook("Ed")},
    {"intent": "unsubscribe", "text": "Opt out"},
    {"intent": "unsubscribe", "text": "unsubcribe" + IPHONE},
    {
        "intent": "unsubscribe",
        "text": "Bitte entfernen Sie mich aus Ihrem Verteiler.\n\nMit freundlichen Grüßen\nHans Müller" + _de_quote(),
    },
    {"intent": "unsubscribe", "text": "Abmelden. Ich möchte keine weiteren E-Mails von Ihnen erhalten."},
    {"intent": "unsubscribe", "text": "Merci de me retirer de votre liste de diffusion." + _fr_quote()},
    {"intent": "unsubscribe", "text": "Désinscription svp. Ne m'envoyez plus d'e-mails."},
    {"intent": "unsubscribe", "text": "Por favor, elimíname de su lista de correo." + _es_quote()},
    {"intent": "unsubscribe", "text": "No me envíen más correos. Darme de baja, gracias."},
    {
        "intent": "unsubscribe",
        "text": "This is the third email. Stop spamming me or I'll report you." + _gmail("Kevin"),
    },
    {"intent": "unsubscribe", "text": "pls take me off ur mailing list thx"},
    {
        "intent": "unsubscribe",
        "text": "Kindly remove this address from all future communications.\n\nRegards,\nAccounts Team",
    },
    {"intent": "unsubscribe", "text": "Do not contact me again." + _outlook("Victor")},
    {
        "intent": "unsubscribe",
        "text": "We're not interested. Please remove us from your database and don't "
        "contact anyone at our company again.",
    },
    {"intent": "unsubscribe", "text": "UNSUBSCRIBE!!!" + IPHONE},
    {"intent": "unsubscribe", "text": "Stop emailing me, I never signed up for this." + _gmail("Nina")},
    {"intent": "unsubscribe", "text": "I'd like to opt-out of these emails."},
    {"intent": "unsubscribe", "text": "Keine Werbung per E-Mail bitte. Austragen." + _de_quote()},
    {"intent": "unsubscribe", "text": "Please stop sending me these emails." + _outlook("Olga")},
    {"intent": "unsubscribe", "text": "no more emails please"},
    {"intent": "unsubscribe", "text": "Don't contact me. Remove my email from your list." + IPHONE},
    # ---- bounce (a bounce's human-readable part, as it lands when the DSN parts are lost)
    {
        "intent": "bounce",
        "text": "Delivery to the following recipient failed permanently:\n\n"
        "     jdoe@northwind.example\n\nTechnical details of permanent failure:\n"
        "The email account that you tried to reach does not exist.",
    },
    {
        "intent": "bounce",
        "text": "This is the mail system at host mx.example.net.\n\nI'm sorry to have to "
        "inform you that your message could not be delivered to one or more recipients.\n\n"
        "<sales@kestrel.example>: host mx1.kestrel.example said: 550 5.1.1 User unknown",
    },
    {
        "intent": "bounce",
        "text": "Your message to mark@harbor.example couldn't be delivered.\n"
        "mark wasn't found at harbor.example.\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'",
    },
    {
        "intent": "bounce",
        "text": "Message not delivered\nThere was a problem delivering your message to "
        "info@velofit.example. The recipient's mailbox is full. Retry later.",
    },
    {
        "intent": "bounce",
        "text": "Mail delivery failed: returning message to sender\n\nA message that you sent "
        "could not be delivered to one or more of its recipients. This is a permanent error.\n"
        "  hello@oldco.example\n    Unrouteable address",
    },
    {
        "intent": "bounce",
        "text": "Unzustellbar: Die E-Mail-Adresse des Empfängers wurde nicht gefunden. "
        "Remote-Server hat '550 5.1.1 User unknown' zurückgegeben.",
    },
    {
        "intent": "bounce",
        "text": "Undeliverable: Quick question about follow-ups\n\nDelivery has failed to "
        "these recipients or groups: tom@brightline.example\nThe recipient's email address was not found.",
    },
    # ---- mixed and tricky ones
    {
        "intent": "question",
        "text": "Before anything else: how do you handle unsubscribes for the emails your AI "
        "sends? Our legal team will ask." + _gmail("Elena"),
    },
    {
        "intent": "interested",
        "text": "Not interested in the chatbot but the follow-up automation sounds useful. "
        "Can we talk about that part only?" + _outlook("Brian"),
    },
    {"intent": "unsubscribe", "text": "Thanks, but no. And please stop emailing me." + _gmail("Harold")},
    {
        "intent": "not_now",
        "text": "I'm off next week, but honestly this is a next-quarter thing anyway. Try me in July.",
    },
    {
        "intent": "referral",
        "referral": {"name": "Dana Lee", "email": "dana.lee@bluefin.example"},
        "text": "Interesting, but I'm not the right person. Dana Lee (dana.lee@bluefin.example) leads our ops.",
    },
    {
        "intent": "objection",
        "text": "Not sure. We already pay for Zapier and a VA. Why would we need you on top?" + IPHONE,
    },
    {"intent": "question", "text": "Does it work in German too? Half our clients are in Austria." + _de_quote()},
    {
        "intent": "interested",
        "text": "stop by our office next Tuesday and we can talk it through properly",
        "note": "'stop' that is not an opt-out",
    },
    {
        "intent": "not_interested",
        "text": "We're not in the market for this, but thanks for the thoughtful email." + _gmail("Carlos"),
    },
    {
        "intent": "unsubscribe",
        "text": "Hi, please unsubscribe my colleague and me: j.doe@brightline.example and k.lopez@brightline.example",
    },
    # ---- more of the everyday kind
    {"intent": "interested", "text": "Tell me more. What would a pilot look like for us?" + _gmail("Ashley")},
    {
        "intent": "interested",
        "text": "Hi Anna, thx for reaching out. Yes we could use help with this, does "
        "thursday 11am work for a quick call?\n\nRegards,\nFatima Haddad\nHaddad Interiors" + _outlook("Fatima"),
    },
    {
        "intent": "interested",
        "text": "Interessant. Schicken Sie mir bitte ein paar Terminvorschläge für nächste Woche." + _de_quote(),
    },
    {"intent": "question", "text": "Is there a free trial? I'd want to test it on a few leads first." + IPHONE},
    {
        "intent": "question",
        "text": "Which languages does the assistant speak? We have French and Dutch "
        "speaking customers.\n\nBest\nPieter" + _gmail("Pieter"),
    },
    {"intent": "question", "text": "¿Tienen casos de éxito en el sector inmobiliario?" + _es_quote()},
    {
        "intent": "objection",
        "text": "Every week someone emails me about AI. What makes you any different from "
        "the other 50?" + _outlook("Gary"),
    },
    {
        "intent": "objection",
        "text": "Nous n'avons pas le budget cette année, et honnêtement je doute du retour "
        "sur investissement." + _fr_quote(),
    },
    {"intent": "not_now", "text": "Reach out again in January, budgets get set in December." + _gmail("Steve")},
    {"intent": "not_now", "text": "Im Moment passt es zeitlich nicht, vielleicht nächstes Quartal." + _de_quote()},
    {"intent": "not_interested", "text": "thanks but we're all set" + IPHONE},
    {
        "intent": "not_interested",
        "text": "This isn't a fit for us. Best of luck with it.\n\n--\nMatthew King\nFounder, King & Co",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-19",
        "text": "Automatic reply: Thanks for reaching out. I'm out "
        "until Wednesday 19 March. For urgent issues email support@kingco.example.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-13",
        "text": "I'm away from my desk until March 13 with very limited "
        "email access. I'll get back to you when I return.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-17",
        "text": "Je serai absente jusqu'au 17/03/2025. Pour toute urgence, merci de contacter accueil@lumiere.example.",
    },
    {
        "intent": "out_of_office",
        R: "2025-03-10",
        "text": "Ich bin bis einschließlich Freitag, 7. März, nicht im "
        "Haus. Ab Montag, 10. März bin ich wieder für Sie da.",
    },
    {
        "intent": "referral",
        "referral": {"name": "Tom Becker", "email": "tom.becker@kestrel.example"},
        "text": "Best person for this is Tom Becker, our CTO - tom.becker@kestrel.example" + _gmail("Luis"),
    },
    {
        "intent": "referral",
        "referral": {"name": "", "email": "partnerships@northwind.example"},
        "text": "Vendor pitches go to partnerships@northwind.example, please send it there." + _outlook("Ray"),
    },
    {"intent": "unsubscribe", "text": "Unsubscribe me from this list." + _gmail("Walter")},
    {"intent": "unsubscribe", "text": "Per favore cancellatemi dalla vostra lista. Non sono interessato."},
    {"intent": "unsubscribe", "text": "Graag uitschrijven, ik wil geen e-mails meer ontvangen."},
    {"intent": "unsubscribe", "text": "I have asked twice already. Remove. Me. From. Your. List." + IPHONE},
    {"intent": "unsubscribe", "text": "Please cease all further communication with me." + _outlook("Gerald")},
    {"intent": "unsubscribe", "text": "No thank you, and please don't send me any more emails." + _gmail("Irene")},
    {"intent": "unsubscribe", "text": "Veuillez me désabonner." + _fr_quote()},
    {
        "intent": "bounce",
        "text": "Delivery Status Notification (Delay)\n\nDelivery incomplete\nThere was a "
        "temporary problem delivering your message to ops@summit.example. Gmail will retry for 46 more hours.",
    },
]
