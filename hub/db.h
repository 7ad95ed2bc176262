// Db: one SQLite connection configured for the hub (WAL journal, synchronous=FULL so a committed
// transaction survives a kill or power loss, foreign keys, busy timeout), with a per-connection
// cache of prepared statements and versioned schema migrations.
//
// Thread-safety: a Db (and its statements) belongs to one thread at a time. The Store keeps one
// connection per thread; SQLite's WAL lets readers run beside the single writer.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "runner/status.h"

namespace ahub::hub {

class Db;

// A prepared statement, reset on each Run/Step cycle. Bind indices are 1-based as in SQLite.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  // Bind all parameters in order and leave the statement ready to step.
  template <typename... Args>
  Stmt& Bind(const Args&... args) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    int i = 1;
    (BindOne(i++, args), ...);
    return *this;
  }
  // Binds a list of values whose number depends on the query (filters): strings as text, numbers
  // as integers or reals.
  Stmt& BindValues(const std::vector<std::variant<int64_t, double, std::string>>& values);
  // Advances to the next row; false when done. Errors throw DbError (programming errors or I/O).
  bool Step();
  // Runs a statement that returns no rows.
  void Run() {
    while (Step()) {
    }
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<double> OptDouble(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<double>(Double(col));
  }

 private:
  void BindOne(int i, int64_t v) { Check(sqlite3_bind_int64(stmt_, i, v)); }
  void BindOne(int i, int v) { Check(sqlite3_bind_int64(stmt_, i, v)); }
  void BindOne(int i, bool v) { Check(sqlite3_bind_int64(stmt_, i, v ? 1 : 0)); }
  void BindOne(int i, double v) { Check(sqlite3_bind_double(stmt_, i, v)); }
  void BindOne(int i, std::string_view v) {
    Check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void BindOne(int i, const std::string& v) { BindOne(i, std::string_view(v)); }
  void BindOne(int i, const char* v) { BindOne(i, std::string_view(v)); }
  void BindOne(int i, std::nullptr_t) { Check(sqlite3_bind_null(stmt_, i)); }
  void BindOne(int i, const std::optional<double>& v) {
    if (v) BindOne(i, *v); else BindOne(i, nullptr);
  }
  void BindOne(int i, const std::optional<std::string>& v) {
    if (v) BindOne(i, *v); else BindOne(i, nullptr);
  }
  void Check(int rc) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Raised for failures that are not the caller's input: I/O errors, a full disk, a corrupt file,
// or SQL that does not compile. The HTTP layer turns it into a 500 and the transaction rolls back.
class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& file);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A cached prepared statement for `sql` (compiled on first use on this connection).
  Stmt& Prepare(const std::string& sql);

  // The first row of `sql`, as `read` makes it, or nullopt. The statement is stepped to its end
  // so that no read transaction stays open on this connection (it would pin an old snapshot).
  template <typename Read, typename... Args>
  auto QueryOne(const std::string& sql, Read read, const Args&... args)
      -> std::optional<decltype(read(std::declval<const Stmt&>()))> {
    Stmt& s = Prepare(sql);
    s.Bind(args...);
    if (!s.Step()) return std::nullopt;
    auto row = read(s);
    s.Run();
    return row;
  }
  // Every row of `sql`, as `read` makes them.
  template <typename Read, typename... Args>
  auto QueryAll(const std::string& sql, Read read, const Args&... args)
      -> std::vector<decltype(read(std::declval<const Stmt&>()))> {
    Stmt& s = Prepare(sql);
    s.Bind(args...);
    std::vector<decltype(read(std::declval<const Stmt&>()))> rows;
    while (s.Step()) rows.push_back(read(s));
    return rows;
  }
  // The first column of the first row as an integer (COUNT(*) and the like); 0 when no row.
  template <typename... Args>
  int64_t QueryInt(const std::string& sql, const Args&... args) {
    return QueryOne(sql, [](const Stmt& s) { return s.Int(0); }, args...).value_or(0);
  }
  void Exec(const std::string& sql);  // one or more statements, no results
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> stmts_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an exception unwound it).
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void Commit();

 private:
  Db& db_;
  bool done_ = false;
};

// Applies every migration newer than the database's `PRAGMA user_version`, each in its own
// transaction together with the version bump, so a crash leaves the schema at a whole version.
// `migrations[i]` brings the schema from version i to i+1.
Status Migrate(Db& db, const std::vector<std::string_view>& migrations);

}  // namespace ahub::hub
