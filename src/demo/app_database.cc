#include "demo/app_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string_view>

#include "demo/demo_random.h"
#include "demo/fake_values.h"

namespace retention::demo {
namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// `auto& var = *expr` for a Result, or return its Status.
#define DEMO_ASSIGN_OR_RETURN(var, expr)            \
  auto var##_result = (expr);                       \
  if (!var##_result.ok()) return var##_result.status(); \
  auto& var = *var##_result

// ---------------------------------------------------------------------------
// A minimal SQLite layer: errors become Status values here.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

Status SqlError(sqlite3* db, std::string_view what) {
  return Status::IoError("demo database: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status::IoError("demo database: " + message + " (in: " + std::string(sql).substr(0, 80) + ")");
  }
  return Status::Ok();
}

// A prepared INSERT. Text is bound SQLITE_STATIC: the caller keeps the
// strings alive until Insert() returns.
class Inserter {
 public:
  Inserter(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Inserter(const Inserter&) = delete;
  Inserter& operator=(const Inserter&) = delete;
  ~Inserter() { sqlite3_finalize(stmt_); }

  static Result<std::unique_ptr<Inserter>> Prepare(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return SqlError(db, "prepare " + sql);
    }
    return std::make_unique<Inserter>(db, stmt);
  }

  Inserter& Int(int col, int64_t v) {
    sqlite3_bind_int64(stmt_, col, v);
    return *this;
  }
  Inserter& Text(int col, std::string_view v) {
    sqlite3_bind_text(stmt_, col, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Inserter& Null(int col) {
    sqlite3_bind_null(stmt_, col);
    return *this;
  }
  // A customer id, or NULL for none (0).
  Inserter& OptionalId(int col, int64_t id) { return id > 0 ? Int(col, id) : Null(col); }

  Status Insert() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) return SqlError(db_, "insert");
    return Status::Ok();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// ---------------------------------------------------------------------------
// Undated rows at fixed, evenly spread positions of a table.

enum class Undated { kNo, kNull, kUnknown, kEmpty };

class UndatedSlots {
 public:
  // text: the clock is text, so unparseable values are used too.
  UndatedSlots(int64_t rows, bool text) : rows_(rows), text_(text) {
    slots_ = rows >= 60 ? 6 : (rows >= 3 ? 3 : 0);
  }

  Undated At(int64_t i) {
    while (next_ < slots_ && Position(next_) < i) ++next_;
    if (next_ >= slots_ || Position(next_) != i) return Undated::kNo;
    if (!text_) return Undated::kNull;
    switch (next_ % 3) {
      case 0: return Undated::kNull;
      case 1: return Undated::kUnknown;
      default: return Undated::kEmpty;
    }
  }

 private:
  int64_t Position(int64_t k) const { return (2 * k + 1) * rows_ / (2 * slots_); }

  int64_t rows_;
  bool text_;
  int64_t slots_ = 0;
  int64_t next_ = 0;
};

// Binds a text clock, or its undated replacement.
void BindTextClock(Inserter& ins, int col, Undated u, const std::string& text) {
  switch (u) {
    case Undated::kNo: ins.Text(col, text); break;
    case Undated::kNull: ins.Null(col); break;
    case Undated::kUnknown: ins.Text(col, "unknown"); break;
    case Undated::kEmpty: ins.Text(col, ""); break;
  }
}

// ---------------------------------------------------------------------------
// Table sizes: shares of the requested total.

struct Counts {
  int64_t accounts, customers, inventory_items, sales, invoices, support_tickets, support_emails,
      audit_events, security_events, request_logs, sessions, oauth_states, usage_events;
};

Counts ComputeCounts(int64_t rows) {
  auto share = [rows](double s, int64_t minimum) {
    return std::max<int64_t>(minimum, std::llround(static_cast<double>(rows) * s));
  };
  Counts c;
  c.accounts = share(0.010, 20);
  c.customers = share(0.050, 40);
  c.inventory_items = share(0.060, 20);
  c.sales = share(0.080, 20);
  c.invoices = share(0.050, 20);
  c.support_tickets = share(0.015, 20);
  c.support_emails = share(0.040, 20);
  c.audit_events = share(0.080, 20);
  c.security_events = share(0.040, 20);
  c.request_logs = share(0.400, 20);
  c.sessions = share(0.020, 20);
  c.oauth_states = share(0.005, 20);
  c.usage_events = share(0.150, 20);
  return c;
}

const char* const kSchema = R"sql(
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
  created_at TEXT NOT NULL,
  closed_at TEXT
);
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  name TEXT,
  email TEXT,
  phone TEXT,
  created_at TEXT
);
CREATE TABLE inventory_items (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  sku TEXT,
  title TEXT,
  price_cents INTEGER,
  created_at TEXT
);
CREATE TABLE sales (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  customer_id INTEGER,
  amount_cents INTEGER,
  sold_at TEXT
);
CREATE TABLE invoices (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  customer_id INTEGER,
  total_cents INTEGER,
  issued_at INTEGER
);
CREATE TABLE support_tickets (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  customer_id INTEGER,
  subject TEXT,
  status TEXT,
  last_activity_at TEXT
);
CREATE TABLE support_emails (
  id INTEGER PRIMARY KEY,
  ticket_id INTEGER NOT NULL,
  customer_id INTEGER,
  sender TEXT,
  body TEXT,
  sent_at TEXT
);
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  actor TEXT,
  action TEXT,
  occurred_at INTEGER
);
CREATE TABLE security_events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  kind TEXT,
  ip TEXT,
  occurred_at TEXT
);
CREATE TABLE request_logs (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  method TEXT,
  path TEXT,
  status INTEGER,
  latency_ms INTEGER,
  ip TEXT,
  created_at TEXT
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  created_at TEXT,
  expires_at TEXT
);
CREATE TABLE oauth_states (
  state TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  created_at INTEGER,
  expires_at INTEGER
);
CREATE TABLE usage_events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  name TEXT,
  occurred_at TEXT
);
)sql";

// Built after the rows are in: one sort per index instead of a B-tree
// insert per row.
const char* const kIndexes = R"sql(
CREATE INDEX idx_accounts_closed_at ON accounts (closed_at);
CREATE INDEX idx_customers_account_id ON customers (account_id);
CREATE INDEX idx_inventory_items_account_id ON inventory_items (account_id);
CREATE INDEX idx_sales_sold_at ON sales (sold_at);
CREATE INDEX idx_sales_account_id ON sales (account_id);
CREATE INDEX idx_sales_customer_id ON sales (customer_id);
CREATE INDEX idx_invoices_issued_at ON invoices (issued_at);
CREATE INDEX idx_invoices_account_id ON invoices (account_id);
CREATE INDEX idx_invoices_customer_id ON invoices (customer_id);
CREATE INDEX idx_support_tickets_last_activity_at ON support_tickets (last_activity_at);
CREATE INDEX idx_support_tickets_account_id ON support_tickets (account_id);
CREATE INDEX idx_support_tickets_customer_id ON support_tickets (customer_id);
CREATE INDEX idx_support_emails_ticket_id ON support_emails (ticket_id);
CREATE INDEX idx_support_emails_customer_id ON support_emails (customer_id);
CREATE INDEX idx_support_emails_sent_at ON support_emails (sent_at);
CREATE INDEX idx_audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX idx_audit_events_account_id ON audit_events (account_id);
CREATE INDEX idx_security_events_occurred_at ON security_events (occurred_at);
CREATE INDEX idx_security_events_account_id ON security_events (account_id);
CREATE INDEX idx_request_logs_created_at ON request_logs (created_at);
CREATE INDEX idx_request_logs_account_id ON request_logs (account_id);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
CREATE INDEX idx_sessions_account_id ON sessions (account_id);
CREATE INDEX idx_oauth_states_expires_at ON oauth_states (expires_at);
CREATE INDEX idx_oauth_states_account_id ON oauth_states (account_id);
CREATE INDEX idx_usage_events_occurred_at ON usage_events (occurred_at);
CREATE INDEX idx_usage_events_account_id ON usage_events (account_id);
)sql";

// ---------------------------------------------------------------------------
// The generator. Tables are filled in dependency order; later tables pick
// an account that existed (and was not yet closed) at the row's time, and a
// customer of that account created before it.

struct Ticket {
  int64_t account;   // index into accounts
  int64_t customer;  // customer id, 0 for none
  int64_t last_activity;
};

class Generator {
 public:
  Generator(sqlite3* db, const AppDatabaseSpec& spec, int64_t start)
      : db_(db), spec_(spec), now_(spec.now), start_(start), counts_(ComputeCounts(spec.rows)) {}

  Result<RowCounts> Run() {
    RETENTION_RETURN_IF_ERROR(Accounts());
    RETENTION_RETURN_IF_ERROR(Customers());
    RETENTION_RETURN_IF_ERROR(InventoryItems());
    RETENTION_RETURN_IF_ERROR(Sales());
    RETENTION_RETURN_IF_ERROR(Invoices());
    RETENTION_RETURN_IF_ERROR(SupportTickets());
    RETENTION_RETURN_IF_ERROR(SupportEmails());
    RETENTION_RETURN_IF_ERROR(AuditEvents());
    RETENTION_RETURN_IF_ERROR(SecurityEvents());
    RETENTION_RETURN_IF_ERROR(RequestLogs());
    RETENTION_RETURN_IF_ERROR(Sessions());
    RETENTION_RETURN_IF_ERROR(OauthStates());
    RETENTION_RETURN_IF_ERROR(UsageEvents());
    return written_;
  }

 private:
  Result<std::unique_ptr<Inserter>> Prepare(const std::string& table, const std::string& columns,
                                            int n) {
    std::string sql = "INSERT INTO " + table + " (" + columns + ") VALUES (";
    for (int i = 1; i <= n; ++i) sql += (i > 1 ? ", ?" : "?") + std::to_string(i);
    sql += ")";
    return Inserter::Prepare(db_, sql);
  }

  DemoRandom Stream(std::string_view table) const { return DemoRandom(spec_.seed, table); }

  // An account that exists and is open at t (index into the account arrays).
  int64_t PickAccount(int64_t t, DemoRandom& rng) const {
    const auto existing = std::upper_bound(account_created_.begin(), account_created_.end(), t) -
                          account_created_.begin();
    if (existing <= 1) return 0;
    for (int tries = 0; tries < 16; ++tries) {
      const int64_t a = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(existing)));
      if (account_closed_[a] > t) return a;
    }
    return 0;  // the first account is never closed
  }

  // A customer id of `account` created before t, or 0 (none) with
  // probability `none` or when it has none yet.
  int64_t PickCustomer(int64_t account, int64_t t, double none, DemoRandom& rng) const {
    if (rng.Chance(none)) return 0;
    const auto& list = account_customers_[account];  // (created, id), by created
    const auto known = std::upper_bound(list.begin(), list.end(), std::make_pair(t, kNever)) -
                       list.begin();
    if (known == 0) return 0;
    return list[rng.Below(static_cast<uint64_t>(known))].second;
  }

  Status Accounts() {
    DemoRandom rng = Stream("accounts");
    const int64_t n = counts_.accounts;
    account_created_.resize(n);
    account_closed_.assign(n, kNever);
    account_email_.resize(n);
    account_customers_.resize(n);

    // The first account signed up on the first day; the rest grow in.
    account_created_[0] = start_;
    for (int64_t i = 1; i < n; ++i) {
      account_created_[i] = GrowthTime(i - 1, n - 1, start_, now_ - kDay, rng);
    }

    // 15% closed; which ones is chosen by a partial shuffle of 1..n-1.
    std::vector<int64_t> ids(n - 1);
    for (int64_t i = 0; i < n - 1; ++i) ids[i] = i + 1;
    const int64_t closed = std::max<int64_t>(3, std::llround(0.15 * static_cast<double>(n - 1)));
    for (int64_t i = 0; i < closed; ++i) {
      std::swap(ids[i], ids[i + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n - 1 - i)))]);
    }
    std::vector<int64_t> chosen(ids.begin(), ids.begin() + closed);
    std::sort(chosen.begin(), chosen.end());

    std::vector<Undated> closed_clock(n, Undated::kNo);
    auto can_be_old = [&](int64_t a) { return account_created_[a] + 30 * kDay < now_ - 91 * kDay; };
    auto close_old = [&](int64_t a) {
      account_closed_[a] = rng.Between(account_created_[a] + 30 * kDay, now_ - 91 * kDay);
    };
    auto close_recent = [&](int64_t a) {
      account_closed_[a] =
          rng.Between(std::max(account_created_[a] + kHour, now_ - 89 * kDay), now_ - kHour);
    };
    for (size_t k = 0; k < chosen.size(); ++k) {
      const int64_t a = chosen[k];
      if (k == 0 && can_be_old(a)) {
        close_old(a);  // the earliest sign-up among them: long past its 90 days
      } else if (!can_be_old(a) || rng.Chance(0.25)) {
        close_recent(a);
      } else {
        close_old(a);
      }
      // A few closed accounts lost their closing date.
      if (k == 1) closed_clock[a] = Undated::kNull;
      if (k == 2 && chosen.size() >= 5) closed_clock[a] = Undated::kUnknown;
      if (k == 3 && chosen.size() >= 7) closed_clock[a] = Undated::kEmpty;
    }
    // Make sure both kinds show: a dated closure in the last 90 days, and
    // one long before.
    auto dated = [&](int64_t a) { return closed_clock[a] == Undated::kNo; };
    auto recent = [&](int64_t a) { return account_closed_[a] > now_ - 90 * kDay; };
    if (std::none_of(chosen.begin(), chosen.end(), [&](int64_t a) { return dated(a) && recent(a); })) {
      for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
        if (dated(*it)) {
          close_recent(*it);
          break;
        }
      }
    }
    if (std::none_of(chosen.begin(), chosen.end(), [&](int64_t a) { return dated(a) && !recent(a); })) {
      for (int64_t a : chosen) {
        if (dated(a) && can_be_old(a)) {
          close_old(a);
          break;
        }
      }
    }

    DEMO_ASSIGN_OR_RETURN(ins, Prepare("accounts", "id, name, email, status, created_at, closed_at", 6));
    for (int64_t a = 0; a < n; ++a) {
      const Store store = MakeStore(rng, a + 1);
      account_email_[a] = store.email;
      const std::string created = SqlText(account_created_[a]);
      const bool is_closed = account_closed_[a] != kNever;
      const std::string closed_at = is_closed ? SqlText(account_closed_[a]) : std::string();
      ins->Int(1, a + 1).Text(2, store.name).Text(3, store.email);
      ins->Text(4, is_closed ? "closed" : "active").Text(5, created);
      if (is_closed) {
        BindTextClock(*ins, 6, closed_clock[a], closed_at);
      } else {
        ins->Null(6);
      }
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("accounts", n);
    return Status::Ok();
  }

  Status Customers() {
    DemoRandom rng = Stream("customers");
    const int64_t n = counts_.customers;
    customer_email_.reserve(n);
    customer_first_.reserve(n);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("customers", "id, account_id, name, email, phone, created_at", 6));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const Person p = MakePerson(rng);
      const std::string phone = MakePhone(rng);
      const std::string created = SqlText(t);
      account_customers_[a].emplace_back(t, i + 1);
      customer_email_.push_back(p.email);
      customer_first_.push_back(p.first);
      ins->Int(1, i + 1).Int(2, a + 1).Text(3, p.name).Text(4, p.email).Text(5, phone).Text(6, created);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("customers", n);
    return Status::Ok();
  }

  Status InventoryItems() {
    DemoRandom rng = Stream("inventory_items");
    const int64_t n = counts_.inventory_items;
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("inventory_items",
                                  "id, account_id, sku, title, price_cents, created_at", 6));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const Product p = MakeProduct(rng, i + 1);
      const std::string created = SqlText(t);
      ins->Int(1, i + 1).Int(2, a + 1).Text(3, p.sku).Text(4, p.title).Int(5, p.price_cents);
      ins->Text(6, created);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("inventory_items", n);
    return Status::Ok();
  }

  Status Sales() {
    DemoRandom rng = Stream("sales");
    const int64_t n = counts_.sales;
    UndatedSlots undated(n, /*text=*/true);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("sales", "id, account_id, customer_id, amount_cents, sold_at", 5));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const int64_t customer = PickCustomer(a, t, /*none=*/0.1, rng);
      const std::string sold_at = IsoUtc(t);
      ins->Int(1, i + 1).Int(2, a + 1).OptionalId(3, customer).Int(4, MakeSaleAmountCents(rng));
      BindTextClock(*ins, 5, undated.At(i), sold_at);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("sales", n);
    return Status::Ok();
  }

  Status Invoices() {
    DemoRandom rng = Stream("invoices");
    const int64_t n = counts_.invoices;
    UndatedSlots undated(n, /*text=*/false);
    DEMO_ASSIGN_OR_RETURN(ins,
                     Prepare("invoices", "id, account_id, customer_id, total_cents, issued_at", 5));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const int64_t customer = PickCustomer(a, t, /*none=*/0.05, rng);
      const int64_t subtotal = MakeSaleAmountCents(rng);
      const int64_t total = subtotal + subtotal * rng.Between(0, 1025) / 10000;  // sales tax
      ins->Int(1, i + 1).Int(2, a + 1).OptionalId(3, customer).Int(4, total);
      if (undated.At(i) == Undated::kNo) {
        ins->Int(5, t);
      } else {
        ins->Null(5);
      }
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("invoices", n);
    return Status::Ok();
  }

  Status SupportTickets() {
    DemoRandom rng = Stream("support_tickets");
    const int64_t n = counts_.support_tickets;
    UndatedSlots undated(n, /*text=*/true);
    tickets_.reserve(n);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("support_tickets",
                                  "id, account_id, customer_id, subject, status, last_activity_at", 6));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      // Most tickets come from the store's own staff (no customer).
      const int64_t customer = PickCustomer(a, t, /*none=*/0.6, rng);
      const int64_t age = now_ - t;
      const char* status;
      if (age < 3 * kDay) {
        status = rng.Chance(0.6) ? "open" : "pending";
      } else if (age < 10 * kDay) {
        status = rng.Chance(0.3) ? "pending" : "solved";
      } else {
        status = rng.Chance(0.7) ? "closed" : "solved";
      }
      const std::string last_activity = SqlText(t);
      ins->Int(1, i + 1).Int(2, a + 1).OptionalId(3, customer).Text(4, PickTicketSubject(rng));
      ins->Text(5, status);
      BindTextClock(*ins, 6, undated.At(i), last_activity);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
      tickets_.push_back(Ticket{a, customer, t});
    }
    written_.emplace_back("support_tickets", n);
    return Status::Ok();
  }

  Status SupportEmails() {
    DemoRandom rng = Stream("support_emails");
    const int64_t n = counts_.support_emails;
    const int64_t tickets = static_cast<int64_t>(tickets_.size());
    // Every ticket gets one e-mail at its last activity, the rest go to
    // random tickets up to three weeks earlier; ids follow sent_at.
    struct Email {
      int64_t sent;
      int64_t ticket;
    };
    std::vector<Email> emails;
    emails.reserve(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = i < tickets ? i : static_cast<int64_t>(rng.Below(tickets));
      const Ticket& ticket = tickets_[k];
      int64_t sent = ticket.last_activity;
      if (i >= tickets) {
        sent -= rng.Between(0, 21 * kDay);
        sent = std::max(sent, account_created_[ticket.account]);
      }
      emails.push_back(Email{sent, k});
    }
    std::stable_sort(emails.begin(), emails.end(),
                     [](const Email& x, const Email& y) { return x.sent < y.sent; });

    DEMO_ASSIGN_OR_RETURN(ins, Prepare("support_emails",
                                  "id, ticket_id, customer_id, sender, body, sent_at", 6));
    for (int64_t i = 0; i < n; ++i) {
      const Ticket& ticket = tickets_[emails[i].ticket];
      const bool from_agent = rng.Chance(0.45);
      const std::string first =
          ticket.customer > 0 ? customer_first_[ticket.customer - 1] : std::string();
      const std::string sender =
          from_agent ? PickAgentAddress(rng)
                     : (ticket.customer > 0 ? customer_email_[ticket.customer - 1]
                                            : account_email_[ticket.account]);
      const std::string body = MakeEmailBody(rng, first, from_agent);
      const std::string sent_at = SqlText(emails[i].sent);
      ins->Int(1, i + 1).Int(2, emails[i].ticket + 1).OptionalId(3, ticket.customer);
      ins->Text(4, sender).Text(5, body).Text(6, sent_at);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("support_emails", n);
    return Status::Ok();
  }

  Status AuditEvents() {
    DemoRandom rng = Stream("audit_events");
    const int64_t n = counts_.audit_events;
    UndatedSlots undated(n, /*text=*/false);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("audit_events", "id, account_id, actor, action, occurred_at", 5));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const uint64_t who = rng.Below(100);
      const std::string actor = who < 80   ? account_email_[a]
                                : who < 92 ? std::string("system")
                                           : std::string("integration:shopify");
      ins->Int(1, i + 1).Int(2, a + 1).Text(3, actor).Text(4, PickAuditAction(rng));
      if (undated.At(i) == Undated::kNo) {
        ins->Int(5, t * 1000 + static_cast<int64_t>(rng.Below(1000)));
      } else {
        ins->Null(5);
      }
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("audit_events", n);
    return Status::Ok();
  }

  Status SecurityEvents() {
    DemoRandom rng = Stream("security_events");
    const int64_t n = counts_.security_events;
    UndatedSlots undated(n, /*text=*/true);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("security_events", "id, account_id, kind, ip, occurred_at", 5));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const std::string ip = MakeIp(rng);
      const std::string occurred = IsoWithOffset(t, PickOffsetMinutes(rng));
      ins->Int(1, i + 1).Int(2, a + 1).Text(3, PickSecurityKind(rng)).Text(4, ip);
      BindTextClock(*ins, 5, undated.At(i), occurred);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("security_events", n);
    return Status::Ok();
  }

  Status RequestLogs() {
    DemoRandom rng = Stream("request_logs");
    const int64_t n = counts_.request_logs;
    UndatedSlots undated(n, /*text=*/true);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("request_logs",
                                  "id, account_id, method, path, status, latency_ms, ip, created_at", 8));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const Request r = MakeRequest(rng);
      const std::string ip = MakeIp(rng);
      const std::string created = SqlText(t);
      ins->Int(1, i + 1).Int(2, a + 1).Text(3, r.method).Text(4, r.path).Int(5, r.status);
      ins->Int(6, r.latency_ms).Text(7, ip);
      BindTextClock(*ins, 8, undated.At(i), created);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("request_logs", n);
    return Status::Ok();
  }

  // The i-th of n creation times: the last `recent_share` of them within
  // `window` before now, the others over the three years before that.
  int64_t CreationTime(int64_t i, int64_t n, double recent_share, int64_t window, DemoRandom& rng) {
    const int64_t recent = std::max<int64_t>(1, std::llround(static_cast<double>(n) * recent_share));
    const int64_t older = n - recent;
    if (i < older) return GrowthTime(i, older, start_, now_ - window, rng);
    return EvenTime(i - older, recent, now_ - window, now_, rng);
  }

  Status Sessions() {
    DemoRandom rng = Stream("sessions");
    const int64_t n = counts_.sessions;
    UndatedSlots undated(n, /*text=*/true);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("sessions", "id, account_id, created_at, expires_at", 4));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = CreationTime(i, n, 0.20, 14 * kDay, rng);
      const int64_t a = PickAccount(t, rng);
      const std::string id = MakeHexToken(rng, 32);  // SHA-256 of the cookie's token
      const std::string created = SqlText(t);
      const std::string expires = SqlText(t + 14 * kDay);
      ins->Text(1, id).Int(2, a + 1).Text(3, created);
      BindTextClock(*ins, 4, undated.At(i), expires);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("sessions", n);
    return Status::Ok();
  }

  Status OauthStates() {
    DemoRandom rng = Stream("oauth_states");
    const int64_t n = counts_.oauth_states;
    UndatedSlots undated(n, /*text=*/false);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("oauth_states", "state, account_id, created_at, expires_at", 4));
    for (int64_t i = 0; i < n; ++i) {
      int64_t t = CreationTime(i, n, 0.15, kDay, rng);
      if (i == n - 1) t = std::max(t, now_ - 5 * kMinute);  // one flow still in progress
      const int64_t a = PickAccount(t, rng);
      const std::string state = MakeUrlToken(rng, 43);
      ins->Text(1, state).Int(2, a + 1).Int(3, t);
      if (undated.At(i) == Undated::kNo) {
        ins->Int(4, t + 10 * kMinute);
      } else {
        ins->Null(4);
      }
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("oauth_states", n);
    return Status::Ok();
  }

  Status UsageEvents() {
    DemoRandom rng = Stream("usage_events");
    const int64_t n = counts_.usage_events;
    UndatedSlots undated(n, /*text=*/true);
    DEMO_ASSIGN_OR_RETURN(ins, Prepare("usage_events", "id, account_id, name, occurred_at", 4));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = GrowthTime(i, n, start_, now_, rng);
      const int64_t a = PickAccount(t, rng);
      const std::string name = MakeUsageEventName(rng);
      const std::string occurred = IsoUtcMillis(t * 1000 + static_cast<int64_t>(rng.Below(1000)));
      ins->Int(1, i + 1).Int(2, a + 1).Text(3, name);
      BindTextClock(*ins, 4, undated.At(i), occurred);
      RETENTION_RETURN_IF_ERROR(ins->Insert());
    }
    written_.emplace_back("usage_events", n);
    return Status::Ok();
  }

  sqlite3* db_;
  AppDatabaseSpec spec_;
  int64_t now_;
  int64_t start_;
  Counts counts_;

  std::vector<int64_t> account_created_;  // ascending: ids follow sign-up
  std::vector<int64_t> account_closed_;   // kNever while active
  std::vector<std::string> account_email_;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> account_customers_;
  std::vector<std::string> customer_email_;  // by customer id - 1
  std::vector<std::string> customer_first_;
  std::vector<Ticket> tickets_;
  RowCounts written_;
};

// now - 3 calendar years, same time of day (Feb 29 clamps to Feb 28).
int64_t ThreeYearsBefore(int64_t now) {
  using namespace std::chrono;
  const sys_seconds t{seconds{now}};
  const sys_days day = floor<days>(t);
  year_month_day ymd{day};
  ymd = ymd - years{3};
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / last;
  return (sys_days{ymd} + (t - day)).time_since_epoch().count();
}

Result<DbHandle> Open(const std::filesystem::path& file, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return Status::IoError("demo database " + file.string() + ": cannot open: " +
                           (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  return db;
}

}  // namespace

Result<RowCounts> WriteAppDatabase(const std::filesystem::path& file, const AppDatabaseSpec& spec) {
  auto opened = Open(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE);
  if (!opened.ok()) return opened.status();
  sqlite3* db = opened->get();

  // A throwaway file being built: no journal, no fsync until the end.
  RETENTION_RETURN_IF_ERROR(Exec(db,
                                 "PRAGMA journal_mode = OFF;"
                                 "PRAGMA synchronous = OFF;"
                                 "PRAGMA cache_size = -131072;"
                                 "PRAGMA locking_mode = EXCLUSIVE;"));
  RETENTION_RETURN_IF_ERROR(Exec(db, "BEGIN"));
  RETENTION_RETURN_IF_ERROR(Exec(db, kSchema));
  Generator generator(db, spec, ThreeYearsBefore(spec.now));
  auto rows = generator.Run();
  if (!rows.ok()) return rows.status();
  RETENTION_RETURN_IF_ERROR(Exec(db, kIndexes));
  RETENTION_RETURN_IF_ERROR(Exec(db, "COMMIT"));
  return rows;
}

Status EnableWal(const std::filesystem::path& file) {
  auto opened = Open(file, SQLITE_OPEN_READWRITE);
  if (!opened.ok()) return opened.status();
  sqlite3* db = opened->get();
  // journal_mode answers with the mode in force; anything but "wal" is a failure.
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr) != SQLITE_OK) {
    return SqlError(db, "journal_mode");
  }
  std::string mode;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text) mode = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  if (mode != "wal") return Status::IoError("demo database: cannot switch to WAL mode (got '" + mode + "')");
  // Statistics for the query planner (joins on account_id, ticket_id);
  // analysis_limit keeps this fast on millions of rows.
  RETENTION_RETURN_IF_ERROR(Exec(db, "PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);"));
  return Status::Ok();
}

}  // namespace retention::demo
