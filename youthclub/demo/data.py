"""The fixed facts of the demo Hotspot Nørrebro: places, institutions, offers and names.

Everything that varies (who signs up, who comes, how many drop in) is drawn from a
seeded random generator in ``seed.py``; dates there are relative to today.
"""
from __future__ import annotations

from datetime import time

DEMO_DOMAIN = "hotspot.example"
DEFAULT_PASSWORD = "hotspot-demo-2011"
#: the authenticator-app key of the demo logins whose role needs a second factor (published in
#: the README, so never given outside a demo: `seed-demo` in production leaves it out)
DEMO_TOTP_SECRET = "HOTSPOTNORREBRODEMOTOTPSECRETKEY"
PROGRAMME_NAME = "Hotspot Nørrebro"

#: (code, name, note)
DISTRICTS = [
    ("8", "Indre Nørrebro", None),
    ("12", "Ydre Nørrebro", "inkl. rode 157"),
]

FOCUS_AREAS = [
    (1, "Styrket samordning af den kriminalpræventive indsats"),
    (2, "Børn og unge med uroskabende adfærd og inklusion"),
    (3, "Sammenhængskraft i lokalområdet"),
]

#: (focus area number, title, description, target unique young people, target visits)
INITIATIVES = [
    (1, "Fælles aftenberedskab mellem klubber, SSP og politi",
     "Klubber, SSP og lokalpolitiet mødes hver uge og planlægger aftenåbent, hvor der er uro.", None, None),
    (2, "Flere unge i klub- og aktivitetstilbud",
     "Opsøgende arbejde og aftenåbne klubber for unge, der ikke er i et fritidstilbud.", 180, 3200),
    (2, "Lektiehjælp og vej til job og uddannelse",
     "Lektiecaféer og jobværksteder for unge mellem 13 og 24 år.", 90, 1400),
    (2, "Idræt for alle – også pigerne",
     "Idrætstilbud i hallerne om aftenen, med særlige hold for piger.", 120, 2200),
    (3, "Fællesskab i gården",
     "Fællesspisning, kulturaftener og ture, der samler beboere på tværs af alder.", None, 900),
]

#: key, name, kind, district code, address
INSTITUTIONS = [
    ("blaagaarden", "Ungdomsklubben Blågården", "ungdomsklub", "8", "Blågårdsgade 23, 2200 København N"),
    ("griffenfeld", "Fritidsklubben Griffenfeld", "fritidsklub", "8", "Griffenfeldsgade 44, 2200 København N"),
    ("faelled", "Nørre Fælled Skole", "skole", "8", "Guldbergsgade 29, 2200 København N"),
    ("kulturhus", "Kulturhuset Blågårds Plads", "andet", "8", "Blågårds Plads 12, 2200 København N"),
    ("bibliotek", "Nørrebro Bibliotek", "bibliotek", "12", "Bragesgade 8B, 2200 København N"),
    ("mjolner", "Boligsocial indsats Mjølnerparken", "boligsocial", "12", "Mjølnerparken 2, 2200 København N"),
    ("lundtofte", "Klub Lundtoftegade", "ungdomsklub", "12", "Lundtoftegade 43, 2200 København N"),
    ("fight", "Idrætsforeningen Nørrebro United", "forening", "12", "Nørrebrohallen, Bragesgade 5, 2200 København N"),
]

#: staff (without a login of their own) who record attendance at each institution
STAFF_NAMES = {
    "blaagaarden": "Jonas Friis", "griffenfeld": "Mette Skov", "faelled": "Sara Lind",
    "kulturhus": "Omar Haddad", "bibliotek": "Line Kjær", "mjolner": "Bilal Akhtar",
    "lundtofte": "Rasmus Holm", "fight": "Nadia Petersen",
}

#: the demo's door: a drop-in session of this offer is kept running whenever the demo is loaded
DOOR_INSTITUTION = "blaagaarden"
DOOR_OFFER = "Aftenåben klub"

#: the demo logins, one per role: (local part, name, role, institution key)
LOGINS = [
    ("admin", "Anne Admin", "admin", None),
    ("koordinator", "Karim Koordinator", "coordinator", None),
    ("instleder", "Ida Institutionsleder", "institution_admin", "blaagaarden"),
    ("personale", "Peter Personale", "staff", "blaagaarden"),
    ("ung", "Yasmin", None, None),
]


def _t(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class Offer:
    """One demo activity and its weekly rhythm."""

    def __init__(self, inst, title, category, ages, day_offsets, start, end, *, description, signup=False,
                 capacity=None, drop_in=True, focus=(2,), initiatives=(), room=None, weeks_back=16,
                 weeks_ahead=5, popularity=1.0, status="published", full=False, girls=0.5, girls_only=False):
        self.inst = inst
        self.title = title
        self.category = category
        self.min_age, self.max_age = ages
        #: weekdays as offsets from today's weekday, so that some sessions are always today
        self.day_offsets = day_offsets
        self.start, self.end = _t(start), _t(end)
        self.description = description
        self.signup = signup
        self.capacity = capacity
        self.drop_in = drop_in
        self.focus = focus
        #: indexes into INITIATIVES this offer serves
        self.initiatives = initiatives
        self.room = room
        self.weeks_back = weeks_back
        self.weeks_ahead = weeks_ahead
        #: scales how many come
        self.popularity = popularity
        self.status = status
        #: signed up to capacity with a waitlist
        self.full = full
        #: the share of girls among those who come (boys make up the rest, beside a few others)
        self.girls = 1.0 if girls_only else girls
        #: only girls sign up, come or are counted (Pigeklub, Pigefodbold)
        self.girls_only = girls_only


OFFERS = [
    # Indre Nørrebro
    Offer("blaagaarden", "Aftenåben klub", "andet", (13, 17), (0, 2, 4), "18:00", "21:30",
          description="Klubben er åben om aftenen: bordtennis, PlayStation, musik og en snak med de voksne.",
          focus=(1, 2), initiatives=(0, 1), room="Klubhuset", popularity=1.4, girls=0.35),
    Offer("blaagaarden", "Fodbold i hallen", "sport", (12, 16), (1,), "17:00", "18:30",
          description="Indendørs fodbold for drenge og piger. Vi spiller på tværs af klubberne.",
          signup=True, capacity=18, initiatives=(3,), room="Hal 2", full=True, girls=0.3),
    Offer("blaagaarden", "Lydstudie og rap-værksted", "musik", (14, 20), (3,), "17:30", "20:00",
          description="Skriv tekster, lav beats og indspil dit eget nummer med klubbens producer.",
          signup=True, capacity=8, drop_in=False, room="Studiet", full=True, girls=0.3),
    Offer("blaagaarden", "Gaming-aften", "gaming", (12, 17), (0,), "16:00", "19:00",
          description="FIFA, Rocket League og Mario Kart på storskærm. Turnering den sidste fredag i måneden.",
          initiatives=(1,), room="Medierummet", popularity=1.2, girls=0.2),
    Offer("griffenfeld", "Fritidsklub efter skole", "andet", (10, 13), (0, 1, 2, 3), "13:30", "17:00",
          description="Leg, værksted og lektiehjørne efter skole for de 10-13-årige.",
          initiatives=(1,), room="Stueetagen", popularity=1.3),
    Offer("griffenfeld", "Kreativt værksted", "kreativ", (10, 14), (2,), "14:30", "16:30",
          description="Maling, ler og syning. Materialerne står klar.", signup=True, capacity=12, room="Værkstedet", girls=0.7),
    Offer("griffenfeld", "Pigeklub", "andet", (10, 14), (4,), "15:00", "17:30",
          description="Et frirum kun for piger: snak, bagning, dans og ture.", signup=True, capacity=15,
          initiatives=(3,), room="Pigerummet", girls_only=True),
    Offer("faelled", "Lektiecafé", "lektiehjaelp", (12, 17), (1, 3), "15:00", "17:00",
          description="Frivillige studerende hjælper med lektier, afleveringer og eksamenslæsning.",
          initiatives=(2,), room="Lokale 12", girls=0.6),
    Offer("faelled", "Skak og brætspil", "andet", (10, 16), (5,), "14:00", "16:00",
          description="Skak, Ludo og Catan. Nybegyndere er velkomne.", popularity=0.6, weeks_back=8),
    Offer("kulturhus", "Fællesspisning for unge og familier", "andet", (10, 24), (6,), "17:30", "19:30",
          description="Vi laver mad sammen og spiser i salen. Alle er velkomne.", focus=(3,), initiatives=(4,),
          room="Salen", popularity=1.5),
    Offer("kulturhus", "Dans: hiphop og afro", "sport", (12, 18), (2,), "18:00", "19:30",
          description="Hiphop og afrodance med en professionel danser. Ingen erfaring nødvendig.",
          signup=True, capacity=20, initiatives=(3,), room="Salen", girls=0.8),
    Offer("kulturhus", "Filmaften", "kreativ", (13, 24), (5,), "19:00", "21:30",
          description="Vi ser en film sammen lørdag aften og snakker om den bagefter.", focus=(3,),
          initiatives=(4,), popularity=0.8),
    # Ydre Nørrebro
    Offer("lundtofte", "Aftenklub", "andet", (14, 18), (0, 1, 3), "18:30", "22:00",
          description="Klubben holder åbent om aftenen med pool, musik og mad.", focus=(1, 2),
          initiatives=(0, 1), room="Klubben", popularity=1.4, girls=0.3),
    Offer("lundtofte", "Boksning", "sport", (14, 20), (2, 4), "17:00", "18:30",
          description="Boksetræning med fokus på teknik, kondition og respekt.", signup=True, capacity=16,
          initiatives=(3,), room="Kælderen", full=True, girls=0.3),
    Offer("lundtofte", "Jobværksted", "job_uddannelse", (16, 24), (1,), "16:00", "18:00",
          description="Hjælp til CV, ansøgninger og fritidsjob. Vi øver jobsamtaler.", signup=True, capacity=10,
          drop_in=True, initiatives=(2,), room="Kontoret"),
    Offer("lundtofte", "Ture ud af byen", "ture_oplevelser", (13, 17), (5,), "10:00", "16:00",
          description="Klatring, kanosejlads og Bakken. Vi mødes ved klubben.", signup=True, capacity=14,
          drop_in=False, initiatives=(1,), popularity=0.9, weeks_back=12),
    Offer("fight", "Fodboldtræning U15", "sport", (11, 14), (0, 3), "16:30", "18:00",
          description="Træning på banen ved Nørrebrohallen, kamp i weekenden.", signup=True, capacity=22,
          initiatives=(3,), room="Bane 3", girls=0.15),
    Offer("fight", "Pigefodbold", "sport", (12, 17), (1,), "17:00", "18:30",
          description="Fodbold kun for piger. Støvler kan lånes.", signup=True, capacity=18, initiatives=(3,),
          room="Bane 3", girls_only=True),
    Offer("fight", "Basket om aftenen", "sport", (14, 24), (4,), "19:00", "21:00",
          description="Åben basket i hallen. Kom og spil med.", initiatives=(1, 3), room="Nørrebrohallen",
          popularity=1.1, girls=0.25),
    Offer("bibliotek", "Lektiehjælp på biblioteket", "lektiehjaelp", (10, 16), (0, 2), "15:00", "17:00",
          description="Hjælp til dansk, matematik og engelsk. Tag dine bøger med.", initiatives=(2,),
          room="Studiezonen", girls=0.6),
    Offer("bibliotek", "Kodeklub", "gaming", (10, 15), (3,), "16:00", "17:30",
          description="Lær at programmere spil i Scratch og Python.", signup=True, capacity=12,
          drop_in=False, initiatives=(1,), room="Makerspace", full=True, girls=0.35),
    Offer("bibliotek", "Skriveværksted", "kreativ", (14, 20), (1,), "17:00", "19:00",
          description="Skriv noveller, digte og spoken word sammen med en forfatter.", signup=True, capacity=10,
          room="Mødelokalet", popularity=0.7, weeks_back=10, weeks_ahead=3, girls=0.7),
    Offer("mjolner", "Gårdklub", "andet", (10, 14), (0, 2, 4), "15:00", "18:00",
          description="Aktiviteter i gården: fodbold, cykelværksted og saft.", focus=(2, 3),
          initiatives=(1, 4), popularity=1.3),
    Offer("mjolner", "Mekanikerværksted", "kreativ", (13, 18), (3,), "16:00", "18:30",
          description="Reparer cykler og knallerter med en mekaniker.", signup=True, capacity=8, initiatives=(2,),
          room="Værkstedet", full=True, girls=0.15),
    Offer("mjolner", "Sommerlejr – formøde", "ture_oplevelser", (12, 16), (6,), "14:00", "15:30",
          description="Formøder til sommerlejren: hvad skal vi, og hvad skal med?", signup=True, capacity=30,
          weeks_back=0, weeks_ahead=4, focus=(3,), initiatives=(4,), status="draft"),
]

GIRLS = [
    "Aisha", "Amira", "Maja", "Emma", "Sofia", "Fatima", "Ida", "Zainab", "Laura", "Noor", "Freja", "Mariam",
    "Clara", "Hana", "Sara", "Asma", "Alma", "Leyla", "Josefine", "Yasmin", "Anna", "Esra", "Mathilde",
    "Ayaan", "Nora", "Sumaya", "Karla", "Dilara", "Ella", "Hiba", "Victoria", "Malak", "Agnes", "Rukiye",
    "Caroline", "Safa", "Olivia", "Huda", "Astrid", "Merve",
]
BOYS = [
    "Mohammed", "Oliver", "Ali", "William", "Ahmad", "Noah", "Omar", "Lucas", "Yusuf", "Emil", "Hassan",
    "Malthe", "Ibrahim", "Victor", "Mustafa", "Magnus", "Abdi", "Frederik", "Bilal", "Oscar", "Khalid",
    "Elias", "Mikkel", "Hamza", "Carl", "Tariq", "August", "Samir", "Alfred", "Zakaria", "Aksel", "Emre",
    "Anton", "Idris", "Sebastian", "Musa", "Theo", "Adam", "Kerem", "Jonas",
]
OTHER = ["Alex", "Kim", "Sam", "Robin", "Noa", "Charlie", "Ari", "Mika"]
LAST_NAMES = [
    "Hansen", "Jensen", "Nielsen", "Ahmed", "Pedersen", "Hussein", "Andersen", "Ali", "Christensen",
    "Yilmaz", "Larsen", "Mohamed", "Sørensen", "Rasmussen", "Khan", "Jørgensen", "Abdi", "Petersen",
    "Hassan", "Madsen", "Kaya", "Kristensen", "Olsen", "Farah", "Thomsen", "Demir", "Poulsen", "Said",
]

#: (ISO week numbers) school holidays, when the clubs are quieter
HOLIDAY_WEEKS = {7, 27, 28, 29, 30, 31, 42, 52, 1}
