// JSON-over-HTTP helpers shared by the tests that talk to a real `ahub serve` (HubProcess).
// Failures are reported through GoogleTest expectations, so a helper never aborts a test by
// itself. Thread-safety: as the httplib::Client passed in (one thread).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace ahub::testing {

// The body as JSON; null when there was no answer or it is not JSON.
inline nlohmann::json ParseBody(const httplib::Result& res) {
  if (!res) return nlohmann::json();
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

// The body of GET `path` as JSON, checking the status.
inline nlohmann::json GetJson(httplib::Client& http, const std::string& path, int status = 200) {
  auto res = http.Get(path);
  EXPECT_TRUE(res) << "GET " << path << ": " << httplib::to_string(res.error());
  if (!res) return nlohmann::json();
  EXPECT_EQ(res->status, status) << "GET " << path << ": " << res->body;
  return ParseBody(res);
}

// The error code of an error envelope ("" when the body is not one).
inline std::string ErrorCode(const httplib::Result& res) {
  const nlohmann::json j = ParseBody(res);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("code", "");
}

// Polls /healthz until no job is queued or running; a test failure after `deadline`.
inline void WaitForIdleQueue(httplib::Client& http, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  nlohmann::json health;
  while (std::chrono::steady_clock::now() < until) {
    health = GetJson(http, "/healthz");
    if (health.is_object() && health["queue"].value("queued", -1) == 0 &&
        health["queue"].value("running", -1) == 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the job queue did not drain within the deadline: " << health.dump();
}

}  // namespace ahub::testing
