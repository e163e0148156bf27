// Realistic-looking values for the demo database: people, stores, products,
// addresses, request paths, and the clock text formats the rules declare.
//
// Every person, e-mail address and phone number is made up (phone numbers
// use the fictional 555-01xx block).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "demo/demo_random.h"

namespace retention::demo {

// Clock text, from unix seconds (UTC).
std::string SqlText(int64_t unix_seconds);                  // 2025-01-02 03:04:05
std::string IsoUtc(int64_t unix_seconds);                   // 2025-01-02T03:04:05Z
std::string IsoUtcMillis(int64_t unix_millis);              // 2025-01-02T03:04:05.123Z
std::string IsoWithOffset(int64_t unix_seconds, int offset_minutes);  // 2025-01-02T04:04:05+01:00

// A UTC offset in minutes, from a mix of the zones a US/EU/APAC user base has.
int PickOffsetMinutes(DemoRandom& rng);

struct Person {
  std::string first;
  std::string last;
  std::string name;   // "First Last"
  std::string email;  // first.last42@gmail.com
};
Person MakePerson(DemoRandom& rng);
std::string MakePhone(DemoRandom& rng);  // +1-212-555-0147

struct Store {
  std::string name;   // "Hartley Fine Watches"
  std::string email;  // owner's address at the store's domain
};
Store MakeStore(DemoRandom& rng, int64_t id);

struct Product {
  std::string sku;    // WCH-004213
  std::string title;  // Rolex Submariner Date 126610LN (pre-owned)
  int64_t price_cents;
};
Product MakeProduct(DemoRandom& rng, int64_t serial);
int64_t MakeSaleAmountCents(DemoRandom& rng);

std::string MakeIp(DemoRandom& rng);           // public-looking IPv4, some IPv6
std::string MakeHexToken(DemoRandom& rng, int bytes);
std::string MakeUrlToken(DemoRandom& rng, int chars);  // base64url alphabet

struct Request {
  const char* method;
  std::string path;
  int status;
  int latency_ms;
};
Request MakeRequest(DemoRandom& rng);

const char* PickAuditAction(DemoRandom& rng);
const char* PickSecurityKind(DemoRandom& rng);
std::string MakeUsageEventName(DemoRandom& rng);
const char* PickTicketSubject(DemoRandom& rng);
std::string MakeEmailBody(DemoRandom& rng, std::string_view first_name, bool from_agent);
const char* PickAgentAddress(DemoRandom& rng);

}  // namespace retention::demo
