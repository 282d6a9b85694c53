#!/usr/bin/python3
"""gen_corpus.py — a labelled PII corpus from fixed seeds.

Prints one snippet a line. Labelled values are marked inline as
[[TYPE:VALUE]] (TYPE one of email phone card iban ssn ipv4 ipv6 mac dob
name); the reader (tests/unit/test_pii.c) strips the marks and keeps the
byte spans. Lines without marks are negatives, many of them hard ones:
order numbers, version strings, timestamps, ISBNs, UUIDs, hashes,
Luhn-invalid card numbers, IBAN-shaped strings with bad check digits,
never-issued SSNs, dates without a birth context, salutations to groups.

Usage: gen_corpus.py [--seed N] [--n N]   (defaults: seed 20261201, 1200)
The same seed always gives the same corpus (Python's Mersenne Twister).
"""
import random
import sys

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
         "Aisha", "Mohammed", "Wei", "Yuki", "Priya", "Olusegun", "Ingrid", "Mateo", "Chloé", "José", "Zoë",
         "Liam", "Noah", "Emma", "Olivia", "Sven", "Fatima", "Hiroshi", "Anika", "Dmitri", "Jean-Luc", "Siobhan"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "O'Brien", "McDonald", "Nakamura", "Okafor", "Schmidt", "Rossi", "Novak", "Kowalski", "Haddad", "Chen",
        "Müller", "García", "Lindqvist", "Petrov", "Ng", "Fitzgerald", "Abernathy", "Dubois", "Costa", "Singh"]
DOMAINS = ["example.com", "mail.example.org", "uni-bonn.de", "company.co.uk", "gmail.com", "outlook.com",
           "acme-corp.io", "research.lab.net", "post.example.fr", "startup.ai"]
WORDS = ["please", "review", "the", "attached", "report", "before", "friday", "meeting", "notes", "budget",
         "we", "shipped", "release", "yesterday", "and", "logs", "look", "clean", "thanks", "for", "help",
         "update", "ticket", "deploy", "server", "cluster", "latency", "improved", "after", "patch"]

IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "CH": 21, "AT": 20,
            "PL": 28, "SE": 24, "NO": 15, "DK": 18, "FI": 18, "IE": 22, "PT": 25}


def filler(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))


def mark(t, v):
    return "[[%s:%s]]" % (t, v)


def luhn_digit(body):
    s = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return str((10 - s % 10) % 10)


def luhn_ok(num):
    s = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0


def card_number(r):
    kind = r.choice(["visa", "visa", "mc", "mc2", "amex", "disc"])
    if kind == "visa":
        pre, n = "4", 16
    elif kind == "mc":
        pre, n = str(r.randint(51, 55)), 16
    elif kind == "mc2":
        pre, n = str(r.randint(2221, 2720)), 16
    elif kind == "amex":
        pre, n = r.choice(["34", "37"]), 15
    else:
        pre, n = "6011", 16
    body = pre + "".join(str(r.randint(0, 9)) for _ in range(n - 1 - len(pre)))
    return body + luhn_digit(body)


def group_card(r, num):
    sep = r.choice(["", " ", "-", " "])
    if len(num) == 15:
        parts = [num[:4], num[4:10], num[10:]]
    else:
        parts = [num[i:i + 4] for i in range(0, len(num), 4)]
    return sep.join(parts)


def iban_check(cc, bban):
    s = bban + cc + "00"
    num = "".join(str(int(ch, 36)) for ch in s)
    return "%02d" % (98 - int(num) % 97)


def iban(r, valid=True):
    cc = r.choice(sorted(IBAN_LEN))
    bban = "".join(str(r.randint(0, 9)) for _ in range(IBAN_LEN[cc] - 4))
    if cc in ("GB", "NL", "IE"):
        bank = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
        bban = bank + bban[4:]
    chk = iban_check(cc, bban)
    if not valid:
        chk = "%02d" % ((int(chk) + r.randint(1, 96)) % 97 or 2)
        if chk == iban_check(cc, bban):
            chk = "%02d" % ((int(chk) + 1) % 100)
    s = cc + chk + bban
    if r.random() < 0.5:
        s = " ".join(s[i:i + 4] for i in range(0, len(s), 4))
    return s


def ssn(r):
    while True:
        a = r.randint(1, 899)
        if a != 666:
            break
    return "%03d-%02d-%04d" % (a, r.randint(1, 99), r.randint(1, 9999))


def phone(r):
    k = r.randint(0, 7)
    d = lambda n: "".join(str(r.randint(0, 9)) for _ in range(n))
    area = str(r.randint(2, 9)) + d(2)
    if k == 0:
        return "(%s) %s-%s" % (area, d(3), d(4))
    if k == 1:
        return "%s-%s-%s" % (area, d(3), d(4))
    if k == 2:
        return "%s.%s.%s" % (area, d(3), d(4))
    if k == 3:
        return "+1 %s %s %s" % (area, d(3), d(4))
    if k == 4:
        return "+44 20 %s %s" % (d(4), d(4))
    if k == 5:
        return "+49 30 %s" % d(7)
    if k == 6:
        return "+%s%s" % (r.choice(["33", "81", "61", "34", "39"]), str(r.randint(1, 9)) + d(8))
    return "0044 %s %s" % (d(4), d(6))


def ipv4(r):
    return ".".join(str(r.randint(1 if i == 0 else 0, 254)) for i in range(4))


def ipv6(r):
    groups = ["%x" % r.randint(0, 0xffff) for _ in range(8)]
    k = r.randint(0, 3)
    if k == 0:
        s = ":".join(groups)
    elif k == 1:
        s = "2001:db8:" + ":".join(groups[:2]) + "::" + groups[7]
    elif k == 2:
        s = "fe80::" + ":".join(groups[4:])
    else:
        s = ":".join(g.zfill(4) for g in groups)
    return s.upper() if r.random() < 0.2 else s


def mac(r):
    b = ["%02x" % r.randint(0, 255) for _ in range(6)]
    if r.random() < 0.3:
        b = [x.upper() for x in b]
    k = r.randint(0, 2)
    if k == 0:
        return ":".join(b)
    if k == 1:
        return "-".join(b)
    s = "".join(b)
    return ".".join([s[0:4], s[4:8], s[8:12]])


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def date(r):
    y, m, d = r.randint(1930, 2010), r.randint(1, 12), r.randint(1, 28)
    k = r.randint(0, 4)
    if k == 0:
        return "%04d-%02d-%02d" % (y, m, d)
    if k == 1:
        return "%02d/%02d/%04d" % (d, m, y)
    if k == 2:
        return "%d %s %d" % (d, MONTHS[m - 1], y)
    if k == 3:
        return "%s %d, %d" % (MONTHS[m - 1], d, y)
    return "%02d.%02d.%04d" % (d, m, y)


def name(r, full=True):
    return r.choice(FIRST) + (" " + r.choice(LAST) if full else "")


def email(r):
    f, l = r.choice(FIRST).lower(), r.choice(LAST).lower()
    f = "".join(ch for ch in f if ch.isascii() and ch.isalnum())
    l = "".join(ch for ch in l if ch.isascii() and ch.isalnum())
    local = r.choice([f + "." + l, f[0] + l, f + "_" + l + str(r.randint(1, 99)), f, l + "+news"])
    return local + "@" + r.choice(DOMAINS)


def positive(r, t):
    if t == "email":
        tpl = r.choice(["Contact me at {} for details.", "Send the logs to {}", "email: {}",
                        "cc {} and {} on the thread", "Reply-To: <{}>", "reach her via {}."])
        n = tpl.count("{}")
        return tpl.format(*[mark("email", email(r)) for _ in range(n)])
    if t == "phone":
        tpl = r.choice(["Call me at {} tomorrow.", "Phone: {}", "Her number is {}.", "office line {} (ext 12)",
                        "You can reach support on {}", "tel {}"])
        return tpl.format(mark("phone", phone(r)))
    if t == "card":
        return r.choice(["Card number {} exp 09/27", "Paid with {} yesterday", "cc: {}",
                         "Charge {} for the renewal"]).format(mark("card", group_card(r, card_number(r))))
    if t == "iban":
        return r.choice(["IBAN: {}", "Please transfer to {} by Monday.", "Account {} (BIC DEUTDEFF)",
                         "refund goes to {}"]).format(mark("iban", iban(r)))
    if t == "ssn":
        return r.choice(["SSN {}", "Social security number: {}", "her ssn is {} on the form",
                         "Employee 42, SSN: {}."]).format(mark("ssn", ssn(r)))
    if t == "ipv4":
        return r.choice(["Login from {} failed", "server at {}.", "allow {} in the firewall",
                         "client_ip={} status=200"]).format(mark("ipv4", ipv4(r)))
    if t == "ipv6":
        return r.choice(["Connection from {} refused", "AAAA record points to {}", "peer {} timed out",
                         "ip6={} ok"]).format(mark("ipv6", ipv6(r)))
    if t == "mac":
        return r.choice(["Device MAC {} joined", "hwaddr {}", "the laptop ({}) was blocked",
                         "mac={} vlan=20"]).format(mark("mac", mac(r)))
    if t == "dob":
        return r.choice(["Born on {} in Lyon.", "DOB: {}", "Date of birth: {}", "she was born {}",
                         "Patient birthday is {}."]).format(mark("dob", date(r)))
    if t == "name":
        k = r.randint(0, 5)
        if k == 0:
            return "My name is %s and I need help." % mark("name", name(r))
        if k == 1:
            return "Dear %s,\n%s" % (mark("name", name(r)), filler(r, 5))
        if k == 2:
            return "Please forward this to Dr. %s." % mark("name", r.choice(LAST))
        if k == 3:
            return "Hi %s, %s" % (mark("name", name(r, False)), filler(r, 4))
        if k == 4:
            return "Meeting with Ms. %s at noon" % mark("name", name(r))
        return "%s\nRegards, %s" % (filler(r, 6), mark("name", name(r)))
    raise ValueError(t)


def hard_negative(r):
    d = lambda n: "".join(str(r.randint(0, 9)) for _ in range(n))
    k = r.randint(0, 19)
    if k == 0:
        return "Order #%s-%s shipped on %04d-%02d-%02d" % (d(3), d(7), r.randint(2015, 2026), r.randint(1, 12),
                                                          r.randint(1, 28))
    if k == 1:
        return "Upgraded to version %d.%d.%d (build %s)" % (r.randint(0, 20), r.randint(0, 30), r.randint(0, 99), d(5))
    if k == 2:
        return "ts=%04d-%02d-%02dT%02d:%02d:%02d.%sZ level=info" % (r.randint(2015, 2026), r.randint(1, 12),
                                                                    r.randint(1, 28), r.randint(0, 23),
                                                                    r.randint(0, 59), r.randint(0, 59), d(3))
    if k == 3:
        return "ISBN 978-%d-%s-%s-%d" % (r.randint(0, 9), d(2), d(6), r.randint(0, 9))
    if k == 4:
        return "request id %08x-%04x-4%03x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(12),
                                                          r.getrandbits(16), r.getrandbits(48))
    if k == 5:
        return "sha256 %064x" % r.getrandbits(256)
    if k == 6:
        while True:
            n = card_number(r)
            n = n[:-1] + str((int(n[-1]) + r.randint(1, 9)) % 10)
            if not luhn_ok(n):
                break
        return "Reference %s (not a card)" % group_card(r, n)
    if k == 7:
        return "Transfer to %s was rejected" % iban(r, valid=False)
    if k == 8:
        a = r.choice(["000", "666", "9%02d" % r.randint(0, 99)])
        return "Test SSN %s-%02d-%04d is never issued" % (a, r.randint(1, 99), r.randint(1, 9999))
    if k == 9:
        return "Invoice dated %s, due in 30 days" % date(r)
    if k == 10:
        return r.choice(["Dear Customer,", "Hi team, the build is green.", "Hello World", "Dear Sir or Madam,",
                         "Hi all, standup moved.", "Hello everyone!"])
    if k == 11:
        return "Commit %07x fixed the race; see PR #%d" % (r.getrandbits(28), r.randint(100, 9999))
    if k == 12:
        return "Total: $%d,%03d.%02d for %d units" % (r.randint(1, 999), r.randint(0, 999), r.randint(0, 99),
                                                     r.randint(1, 500))
    if k == 13:
        return "See section %d.%d.%d.%d of the spec" % (r.randint(1, 9), r.randint(1, 9), r.randint(1, 9),
                                                       r.randint(1, 9))
    if k == 14:
        return "tracking %s%s" % (r.choice(["1Z", "UPS", "TRK"]), d(r.randint(10, 18)))
    if k == 15:
        return "at %02d:%02d:%02d the job ran for %d:%02d" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59),
                                                             r.randint(0, 9), r.randint(0, 59))
    if k == 16:
        return "icon@2x.png and @%s mentioned it" % r.choice(LAST).lower()
    if k == 17:
        return "Employee ID %s, badge %s" % (d(10), d(6))
    if k == 18:
        return "zip %s-%s, lat 48.%s lon 11.%s" % (d(5), d(4), d(4), d(4))
    return "pip install requests==%d.%d.%d && python%d.%d" % (r.randint(1, 3), r.randint(0, 32), r.randint(0, 9),
                                                             3, r.randint(6, 13))


def main():
    seed, n = 20261201, 1200
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--seed":
            seed = int(args.pop(0))
        elif a == "--n":
            n = int(args.pop(0))
        else:
            sys.exit("usage: gen_corpus.py [--seed N] [--n N]")
    r = random.Random(seed)
    types = ["email", "phone", "card", "iban", "ssn", "ipv4", "ipv6", "mac", "dob", "name"]
    out = []
    for i in range(n):
        k = i % 4
        if k == 3:
            out.append(hard_negative(r))
        elif k == 2 and r.random() < 0.5:
            a, b = r.sample(types, 2)
            out.append(positive(r, a) + " " + filler(r, 3) + " " + positive(r, b))
        else:
            out.append(positive(r, types[i % len(types)] if k != 1 else r.choice(types)) + " " + filler(r, 2))
    for line in out:
        print(line.replace("\n", "\\n"))


if __name__ == "__main__":
    main()
