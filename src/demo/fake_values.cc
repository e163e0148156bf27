#include "demo/fake_values.h"

#include <cstdio>

namespace retention::demo {
namespace {

struct Civil {
  int64_t year;
  int month, day, hour, minute, second;
};

// Howard Hinnant's civil_from_days, on unix seconds.
Civil ToCivil(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}

void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// "YYYY-MM-DD?HH:MM:SS" into 19 chars at p.
void PutCivil(char* p, int64_t unix_seconds, char separator) {
  const Civil c = ToCivil(unix_seconds);
  const int y = static_cast<int>(c.year);
  Put2(p, y / 100);
  Put2(p + 2, y % 100);
  p[4] = '-';
  Put2(p + 5, c.month);
  p[7] = '-';
  Put2(p + 8, c.day);
  p[10] = separator;
  Put2(p + 11, c.hour);
  p[13] = ':';
  Put2(p + 14, c.minute);
  p[16] = ':';
  Put2(p + 17, c.second);
}

const char* const kFirstNames[] = {
    "James",  "Mary",    "Robert", "Patricia", "John",    "Jennifer", "Michael", "Linda",
    "David",  "Elizabeth", "William", "Barbara", "Richard", "Susan",  "Joseph",  "Jessica",
    "Thomas", "Sarah",   "Carlos", "Karen",    "Daniel",  "Lisa",     "Matthew", "Nancy",
    "Anthony", "Sophie", "Mark",   "Ashley",   "Hiroshi", "Emily",    "Andrew",  "Priya",
    "Joshua", "Amanda",  "Kenji",  "Melissa",  "Omar",    "Chloé",    "Lukas",   "Isabella",
    "Mateo",  "Aisha",   "Noah",   "Olivia",   "Ethan",   "Zoe",      "Liam",    "Mia"};
const char* const kLastNames[] = {
    "Smith",  "Johnson", "Williams", "Brown",   "Jones",    "Garcia",  "Miller",   "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
    "Taylor", "Moore",   "Jackson",  "Martin",  "Lee",      "Perez",   "Thompson", "White",
    "Harris", "Sanchez", "Clark",    "Ramirez", "Lewis",    "Robinson", "Walker",  "Young",
    "Allen",  "King",    "Wright",   "Scott",   "Nguyen",   "Hill",    "Flores",   "Green",
    "Adams",  "Nelson",  "Baker",    "Hall",    "Rivera",   "Campbell", "Mitchell", "Carter",
    "Tanaka", "Müller",  "Rossi",    "Dubois",  "Kowalski", "Okafor",  "Patel",    "Cohen"};
const char* const kMailDomains[] = {"gmail.com",  "gmail.com",   "outlook.com", "yahoo.com",
                                    "icloud.com", "hotmail.com", "proton.me",   "aol.com",
                                    "me.com",     "fastmail.com"};
const char* const kCities[] = {"Manhattan", "Beverly Hills", "Miami",   "Dallas",  "Scottsdale",
                               "Chicago",   "Boston",        "Atlanta", "Houston", "Las Vegas",
                               "Naples",    "Palm Beach",    "Denver",  "Seattle", "London"};
const char* const kStoreKinds[] = {"Fine Watches", "Luxury Exchange", "Jewelers",
                                   "Timepieces",   "Vintage",         "Pre-Owned Luxury",
                                   "Watch Co.",    "Luxe Resale",     "Collective"};
const char* const kAreaCodes[] = {"212", "310", "305", "214", "480", "312", "617", "404",
                                  "713", "702", "239", "561", "303", "206", "415", "646"};

struct ProductLine {
  const char* prefix;
  const char* title;
  int64_t base_cents;
};
const ProductLine kProducts[] = {
    {"WCH", "Rolex Submariner Date 126610LN", 1395000},
    {"WCH", "Rolex Datejust 41 126334", 1125000},
    {"WCH", "Rolex GMT-Master II 126710BLRO", 2150000},
    {"WCH", "Omega Speedmaster Moonwatch 310.30.42.50.01.002", 620000},
    {"WCH", "Omega Seamaster Diver 300M 210.30.42.20.03.001", 420000},
    {"WCH", "Patek Philippe Nautilus 5711/1A", 12500000},
    {"WCH", "Audemars Piguet Royal Oak 15500ST", 4950000},
    {"WCH", "Cartier Santos de Cartier WSSA0018", 680000},
    {"WCH", "Cartier Tank Must WSTA0041", 245000},
    {"WCH", "Tudor Black Bay 58 M79030N", 335000},
    {"WCH", "Grand Seiko Snowflake SBGA211", 520000},
    {"WCH", "IWC Portugieser Chronograph IW371605", 690000},
    {"WCH", "Breitling Navitimer B01 43", 780000},
    {"HBG", "Hermès Birkin 30 Togo Gold", 2450000},
    {"HBG", "Hermès Kelly 28 Epsom Noir", 2100000},
    {"HBG", "Chanel Classic Flap Medium Caviar", 895000},
    {"HBG", "Louis Vuitton Neverfull MM Monogram", 165000},
    {"HBG", "Louis Vuitton Speedy Bandoulière 25", 145000},
    {"HBG", "Gucci Jackie 1961 Small", 265000},
    {"HBG", "Dior Lady Dior Medium", 520000},
    {"HBG", "Goyard Saint Louis PM", 180000},
    {"HBG", "Bottega Veneta Cassette", 290000},
    {"JWL", "Cartier Love Bracelet 18k Yellow Gold", 690000},
    {"JWL", "Van Cleef & Arpels Alhambra Necklace", 455000},
    {"JWL", "Tiffany & Co. T1 Ring", 215000},
    {"ACC", "Rolex Oyster Bracelet 93250", 120000},
    {"ACC", "Hermès Twilly Silk Scarf", 24000},
};
const char* const kConditions[] = {"(pre-owned)", "(pre-owned)", "(unworn)", "(box & papers)",
                                   "(excellent)", "(very good)", "(new)"};

// First octets of public, routable IPv4 space (no private/reserved blocks).
const int kIpFirstOctets[] = {23, 24, 45, 47, 50, 64, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75,
                              76, 81, 82, 84, 86, 88, 90, 92, 96, 97, 98, 99, 104, 107, 108,
                              142, 151, 162, 173, 174, 185, 188, 195, 203, 212, 213, 217};

const char* const kAuditActions[] = {
    "user.login",          "user.login",         "user.logout",        "user.password_changed",
    "user.invited",        "user.role_changed",  "item.created",       "item.created",
    "item.updated",        "item.updated",       "item.updated",       "item.deleted",
    "item.photo_uploaded", "sale.created",       "sale.refunded",      "invoice.sent",
    "customer.created",    "customer.updated",   "customer.merged",    "customer.exported",
    "integration.connected", "integration.disconnected", "webhook.secret_rotated",
    "export.requested",    "settings.updated",   "api_key.created"};
const char* const kSecurityKinds[] = {
    "login_succeeded",  "login_succeeded", "login_succeeded", "login_failed",  "login_failed",
    "mfa_challenge",    "mfa_failed",      "password_reset_requested",      "session_revoked",
    "rate_limited",     "api_key_created", "new_device",      "suspicious_ip", "account_locked"};
const char* const kPages[] = {"/dashboard", "/inventory",  "/inventory/new", "/customers",
                              "/sales",     "/invoices",   "/reports",       "/settings",
                              "/pipelines", "/wishlists",  "/repairs",       "/integrations"};
const char* const kActions[] = {"item.create",  "item.edit",     "item.photo_upload", "sale.checkout",
                                "invoice.send", "customer.add",  "customer.search",   "report.export",
                                "filter.apply", "sidebar.toggle", "theme.toggle",     "wishlist.add"};
const char* const kErrors[] = {"TypeError", "NetworkError", "ChunkLoadError", "ValidationError",
                               "TimeoutError"};
const char* const kTicketSubjects[] = {
    "Cannot connect Shopify store",
    "Invoice PDF shows wrong tax rate",
    "How do I export my customer list?",
    "Photos not uploading from iPhone",
    "QuickBooks sync duplicated sales",
    "Need to add a second store location",
    "Klaviyo events stopped arriving",
    "Question about my subscription invoice",
    "Can't log in after password reset",
    "Bulk import of inventory from CSV fails",
    "Storefront API returns 429",
    "Please close my account",
    "Wrong currency on storefront",
    "Repair ticket status not updating",
    "Request a copy of my data"};
const char* const kAgents[] = {"support@inventoryconnect.io", "dana@inventoryconnect.io",
                               "marcus@inventoryconnect.io", "li@inventoryconnect.io"};
const char* const kCustomerLines[] = {
    "I followed the steps in the help center but it still does not work.",
    "This started yesterday after the update.",
    "Screenshot attached.",
    "It only happens on the storefront, the dashboard is fine.",
    "Could you look into this today? We have an event this weekend.",
    "Thanks for the quick reply, that fixed it.",
    "Order number is in the subject line.",
    "We are on the Pro plan if that matters."};
const char* const kAgentLines[] = {
    "Thanks for reaching out, I'm looking into this now.",
    "Could you send us the exact error message you see?",
    "We deployed a fix a few minutes ago; please try again.",
    "I've escalated this to our engineering team.",
    "You can export your data from Settings > Data > Export.",
    "I'll mark this ticket as solved; reply any time to reopen it."};

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out.push_back(static_cast<char>(c));
    } else if (c == 0xC3 && i + 1 < s.size()) {
      // The Latin-1 letters of the name lists, as people type them in
      // addresses: é -> e, ü -> u, è -> e.
      const unsigned char d = static_cast<unsigned char>(s[++i]);
      if (d >= 0xA8 && d <= 0xAB) out.push_back('e');
      if (d >= 0xB9 && d <= 0xBC) out.push_back('u');
    }
    // Other characters and punctuation are dropped.
  }
  return out;
}

}  // namespace

std::string SqlText(int64_t unix_seconds) {
  std::string s(19, ' ');
  PutCivil(s.data(), unix_seconds, ' ');
  return s;
}

std::string IsoUtc(int64_t unix_seconds) {
  std::string s(20, 'Z');
  PutCivil(s.data(), unix_seconds, 'T');
  return s;
}

std::string IsoUtcMillis(int64_t unix_millis) {
  int64_t secs = unix_millis / 1000;
  int ms = static_cast<int>(unix_millis % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::string s(24, 'Z');
  PutCivil(s.data(), secs, 'T');
  s[19] = '.';
  s[20] = static_cast<char>('0' + ms / 100);
  s[21] = static_cast<char>('0' + ms / 10 % 10);
  s[22] = static_cast<char>('0' + ms % 10);
  return s;
}

std::string IsoWithOffset(int64_t unix_seconds, int offset_minutes) {
  std::string s(25, ' ');
  PutCivil(s.data(), unix_seconds + int64_t{offset_minutes} * 60, 'T');
  const int abs = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  s[19] = offset_minutes < 0 ? '-' : '+';
  Put2(s.data() + 20, abs / 60);
  s[22] = ':';
  Put2(s.data() + 23, abs % 60);
  return s;
}

int PickOffsetMinutes(DemoRandom& rng) {
  static const int kOffsets[] = {0,    0,    60,   120,  -300, -300, -240,
                                 -360, -420, -480, -420, 330,  540,  600};
  return rng.Pick(kOffsets);
}

Person MakePerson(DemoRandom& rng) {
  Person p;
  p.first = rng.Pick(kFirstNames);
  p.last = rng.Pick(kLastNames);
  p.name = p.first + " " + p.last;
  p.email = Lower(p.first) + "." + Lower(p.last);
  if (rng.Chance(0.6)) p.email += std::to_string(rng.Between(1, 99));
  p.email += "@";
  p.email += rng.Pick(kMailDomains);
  return p;
}

std::string MakePhone(DemoRandom& rng) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1-%s-555-01%02d", rng.Pick(kAreaCodes),
                static_cast<int>(rng.Below(100)));
  return buf;
}

Store MakeStore(DemoRandom& rng, int64_t id) {
  Store s;
  const std::string owner_first = rng.Pick(kFirstNames);
  const std::string owner_last = rng.Pick(kLastNames);
  switch (rng.Below(4)) {
    case 0: s.name = owner_last + " " + rng.Pick(kStoreKinds); break;
    case 1: s.name = std::string(rng.Pick(kCities)) + " " + rng.Pick(kStoreKinds); break;
    case 2: s.name = owner_last + " & " + rng.Pick(kLastNames) + " " + rng.Pick(kStoreKinds); break;
    default: s.name = owner_first + "'s " + rng.Pick(kStoreKinds); break;
  }
  // The id keeps the domain unique among stores with the same name.
  s.email = Lower(owner_first) + "@" + Lower(s.name) + std::to_string(id) + ".com";
  return s;
}

Product MakeProduct(DemoRandom& rng, int64_t serial) {
  const ProductLine& line = rng.Pick(kProducts);
  Product p;
  char sku[32];
  std::snprintf(sku, sizeof sku, "%s-%06lld", line.prefix, static_cast<long long>(serial % 1000000));
  p.sku = sku;
  p.title = std::string(line.title) + " " + rng.Pick(kConditions);
  // Price within -30% .. +30% of the line's base, rounded to whole dollars.
  const int64_t spread = line.base_cents * 3 / 10;
  p.price_cents = (line.base_cents + rng.Between(-spread, spread)) / 100 * 100;
  return p;
}

int64_t MakeSaleAmountCents(DemoRandom& rng) {
  // Mostly accessories and mid-range pieces, a tail of grail watches.
  const double u = rng.Unit();
  if (u < 0.35) return rng.Between(15000, 250000);
  if (u < 0.85) return rng.Between(250000, 1500000);
  if (u < 0.98) return rng.Between(1500000, 5000000);
  return rng.Between(5000000, 15000000);
}

std::string MakeIp(DemoRandom& rng) {
  char buf[48];
  if (rng.Chance(0.12)) {
    std::snprintf(buf, sizeof buf, "2a02:%x:%x:%x::%x", static_cast<unsigned>(rng.Below(0x10000)),
                  static_cast<unsigned>(rng.Below(0x10000)), static_cast<unsigned>(rng.Below(0x10000)),
                  static_cast<unsigned>(rng.Between(1, 0xffff)));
  } else {
    std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", rng.Pick(kIpFirstOctets),
                  static_cast<int>(rng.Below(256)), static_cast<int>(rng.Below(256)),
                  static_cast<int>(rng.Between(1, 254)));
  }
  return buf;
}

std::string MakeHexToken(DemoRandom& rng, int bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(static_cast<size_t>(bytes) * 2);
  uint64_t word = 0;
  for (int i = 0; i < bytes; ++i) {
    if (i % 8 == 0) word = rng.Next();
    const unsigned b = static_cast<unsigned>(word & 0xff);
    word >>= 8;
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::string MakeUrlToken(DemoRandom& rng, int chars) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s;
  s.reserve(static_cast<size_t>(chars));
  uint64_t word = 0;
  for (int i = 0; i < chars; ++i) {
    if (i % 10 == 0) word = rng.Next();
    s.push_back(kAlphabet[word & 63]);
    word >>= 6;
  }
  return s;
}

Request MakeRequest(DemoRandom& rng) {
  Request r;
  const uint64_t kind = rng.Below(100);
  const int64_t id = rng.Between(1, 250000);
  if (kind < 30) {
    r.method = "GET";
    r.path = "/api/v1/items/" + std::to_string(id);
  } else if (kind < 42) {
    r.method = "GET";
    r.path = "/api/v1/items?page=" + std::to_string(rng.Between(1, 40)) + "&per_page=50";
  } else if (kind < 52) {
    r.method = "GET";
    r.path = "/api/v1/customers/" + std::to_string(id);
  } else if (kind < 60) {
    r.method = "GET";
    r.path = rng.Pick(kPages);
  } else if (kind < 68) {
    r.method = "GET";
    r.path = "/api/storefront/v1/listings?cursor=" + MakeUrlToken(rng, 12);
  } else if (kind < 74) {
    r.method = "POST";
    r.path = "/api/v1/items";
  } else if (kind < 79) {
    r.method = "PATCH";
    r.path = "/api/v1/items/" + std::to_string(id);
  } else if (kind < 83) {
    r.method = "POST";
    r.path = "/api/v1/sales";
  } else if (kind < 86) {
    r.method = "PUT";
    r.path = "/api/v1/customers/" + std::to_string(id);
  } else if (kind < 89) {
    r.method = "POST";
    r.path = "/webhooks/shopify/orders";
  } else if (kind < 92) {
    r.method = "POST";
    r.path = "/auth/login";
  } else if (kind < 94) {
    r.method = "DELETE";
    r.path = "/api/v1/items/" + std::to_string(id);
  } else if (kind < 97) {
    r.method = "POST";
    r.path = "/api/v1/uploads/photos";
  } else {
    r.method = "GET";
    r.path = "/static/app." + MakeHexToken(rng, 4) + ".js";
  }

  const uint64_t s = rng.Below(1000);
  if (s < 820) {
    r.status = r.method[0] == 'P' && r.method[1] == 'O' ? 201 : 200;
  } else if (s < 850) {
    r.status = 304;
  } else if (s < 870) {
    r.status = 302;
  } else if (s < 905) {
    r.status = 404;
  } else if (s < 930) {
    r.status = 401;
  } else if (s < 945) {
    r.status = 403;
  } else if (s < 965) {
    r.status = 422;
  } else if (s < 980) {
    r.status = 429;
  } else if (s < 995) {
    r.status = 500;
  } else {
    r.status = 502;
  }

  const double l = rng.Unit();
  if (l < 0.80) {
    r.latency_ms = static_cast<int>(rng.Between(4, 120));
  } else if (l < 0.97) {
    r.latency_ms = static_cast<int>(rng.Between(120, 900));
  } else {
    r.latency_ms = static_cast<int>(rng.Between(900, 8000));
  }
  if (r.path.rfind("/api/v1/uploads", 0) == 0) r.latency_ms += 400;
  return r;
}

const char* PickAuditAction(DemoRandom& rng) { return rng.Pick(kAuditActions); }
const char* PickSecurityKind(DemoRandom& rng) { return rng.Pick(kSecurityKinds); }

std::string MakeUsageEventName(DemoRandom& rng) {
  const uint64_t k = rng.Below(100);
  if (k < 55) return std::string("page_view:") + rng.Pick(kPages);
  if (k < 95) return std::string("action:") + rng.Pick(kActions);
  return std::string("error:") + rng.Pick(kErrors);
}

const char* PickTicketSubject(DemoRandom& rng) { return rng.Pick(kTicketSubjects); }
const char* PickAgentAddress(DemoRandom& rng) { return rng.Pick(kAgents); }

std::string MakeEmailBody(DemoRandom& rng, std::string_view first_name, bool from_agent) {
  std::string body = "Hi";
  if (from_agent && !first_name.empty()) {
    body += " ";
    body += first_name;
  }
  body += ",\n\n";
  const int lines = static_cast<int>(rng.Between(1, 3));
  for (int i = 0; i < lines; ++i) {
    body += from_agent ? rng.Pick(kAgentLines) : rng.Pick(kCustomerLines);
    body += i + 1 < lines ? " " : "\n";
  }
  body += from_agent ? "\nBest,\nInventory Connect Support\n" : "\nThanks\n";
  return body;
}

}  // namespace retention::demo
