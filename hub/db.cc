#include "hub/db.h"

#include <stdexcept>

namespace ahub::hub {

bool Stmt::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string msg = std::string("sqlite: ") + sqlite3_errmsg(db_) + " in: " + sqlite3_sql(stmt_);
  sqlite3_reset(stmt_);
  throw DbError(msg);
}

Stmt& Stmt::BindValues(const std::vector<std::variant<int64_t, double, std::string>>& values) {
  Bind();
  int i = 1;
  for (const auto& v : values) std::visit([&](const auto& x) { BindOne(i++, x); }, v);
  return *this;
}

std::string Stmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

void Stmt::Check(int rc) const {
  if (rc != SQLITE_OK) throw DbError(std::string("sqlite bind: ") + sqlite3_errmsg(db_));
}

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& file) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
    std::string msg = file.string() + ": " + (raw ? sqlite3_errmsg(raw) : "cannot open");
    sqlite3_close(raw);
    return Status::IoError(msg);
  }
  std::unique_ptr<Db> db(new Db(raw));
  // Writers wait for each other instead of failing with SQLITE_BUSY.
  sqlite3_busy_timeout(raw, 10000);
  try {
    // WAL: readers never block the writer. synchronous=FULL: a commit is on disk before it
    // returns, which is what "acknowledged data is never lost" needs.
    db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  } catch (const DbError& e) {
    return Status::IoError(file.string() + ": " + e.what());
  }
  return db;
}

Db::~Db() {
  stmts_.clear();
  sqlite3_close(db_);
}

Stmt& Db::Prepare(const std::string& sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return *it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    throw DbError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in: " + sql);
  }
  auto [pos, _] = stmts_.emplace(sql, std::make_unique<Stmt>(db_, stmt));
  return *pos->second;
}

void Db::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string("sqlite: ") + (err ? err : sqlite3_errmsg(db_));
    sqlite3_free(err);
    throw DbError(msg);
  }
}

Transaction::Transaction(Db& db) : db_(db) { db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.Exec("ROLLBACK");
    } catch (const DbError&) {
      // The transaction is already gone (SQLite rolled it back on an I/O error).
    }
  }
}

void Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

Status Migrate(Db& db, const std::vector<std::string_view>& migrations) {
  try {
    Stmt& q = db.Prepare("PRAGMA user_version");
    q.Bind();
    const int64_t current = q.Step() ? q.Int(0) : 0;
    q.Run();
    if (current > static_cast<int64_t>(migrations.size())) {
      return Status::FailedPrecondition("database schema version " + std::to_string(current) +
                                        " is newer than this ahub knows (" +
                                        std::to_string(migrations.size()) + "); upgrade ahub");
    }
    for (size_t v = static_cast<size_t>(current); v < migrations.size(); ++v) {
      Transaction tx(db);
      db.Exec(std::string(migrations[v]));
      db.Exec("PRAGMA user_version = " + std::to_string(v + 1));
      tx.Commit();
    }
  } catch (const DbError& e) {
    return Status::IoError(std::string("schema migration: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace ahub::hub
