// Queue entry states and their JSON form for the spool.
#include "real/mta/queue_entry.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

namespace mailsim::mta {

namespace {
constexpr std::string_view kQueueStates[] = {"incoming", "active", "deferred", "delivered", "bounced"};
constexpr std::string_view kRecipientStates[] = {"pending", "deferred", "delivered", "bounced"};
}  // namespace

const std::string& MessageBytes::empty_string() {
  static const std::string empty;
  return empty;
}

std::ostream& operator<<(std::ostream& out, const MessageBytes& m) { return out << m.str(); }

std::string_view to_string(QueueState s) { return kQueueStates[static_cast<int>(s)]; }
std::string_view to_string(RecipientState s) { return kRecipientStates[static_cast<int>(s)]; }

std::optional<QueueState> queue_state_from_string(std::string_view s) {
  for (int i = 0; i < 5; ++i)
    if (kQueueStates[i] == s) return static_cast<QueueState>(i);
  return std::nullopt;
}

std::optional<RecipientState> recipient_state_from_string(std::string_view s) {
  for (int i = 0; i < 4; ++i)
    if (kRecipientStates[i] == s) return static_cast<RecipientState>(i);
  return std::nullopt;
}

bool QueueEntry::all_done() const {
  return std::all_of(recipients.begin(), recipients.end(), [](const auto& r) { return r.done(); });
}

bool QueueEntry::any_bounced() const {
  return std::any_of(recipients.begin(), recipients.end(),
                     [](const auto& r) { return r.state == RecipientState::bounced; });
}

std::string envelope_to_json(const QueueEntry& e) {
  nlohmann::json j;
  j["id"] = e.id;
  j["sender"] = e.sender;
  j["client"] = e.client;
  j["arrival"] = e.arrival;
  auto& rcpts = j["recipients"] = nlohmann::json::array();
  for (const auto& r : e.recipients) rcpts.push_back(r.address);
  return j.dump();
}

std::string status_to_json(const QueueEntry& e) {
  nlohmann::json j;
  j["state"] = std::string(to_string(e.state));
  j["next_attempt"] = e.next_attempt;
  j["attempts"] = e.attempts;
  j["last_reason"] = e.last_reason;
  auto& rcpts = j["recipients"] = nlohmann::json::array();
  for (const auto& r : e.recipients) {
    rcpts.push_back({{"address", r.address},
                     {"state", std::string(to_string(r.state))},
                     {"status", r.status},
                     {"diagnostic", r.diagnostic},
                     {"remote_mta", r.remote_mta},
                     {"reported", r.reported},
                     {"delay_reported", r.delay_reported}});
  }
  // JSON escapes control characters, so the result is one line. A remote
  // server's reply may carry bytes that are not UTF-8 (Latin-1 text, say):
  // they become U+FFFD rather than making the queue's record unwritable.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool envelope_from_json(std::string_view json, QueueEntry& e) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  try {
    e.id = j.at("id").get<std::string>();
    e.sender = j.at("sender").get<std::string>();
    e.client = j.value("client", "");
    e.arrival = j.at("arrival").get<TimePoint>();
    e.recipients.clear();
    for (const auto& r : j.at("recipients")) e.recipients.push_back(pending_recipient(r.get<std::string>()));
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return !e.id.empty();
}

bool status_from_json(std::string_view json, QueueEntry& e) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  try {
    auto state = queue_state_from_string(j.at("state").get<std::string>());
    if (!state) return false;
    const auto& rcpts = j.at("recipients");
    if (rcpts.size() != e.recipients.size()) return false;
    std::vector<RecipientStatus> parsed;
    for (const auto& r : rcpts) {
      auto rs = recipient_state_from_string(r.at("state").get<std::string>());
      if (!rs) return false;
      RecipientStatus s;
      s.address = r.at("address").get<std::string>();
      s.state = *rs;
      s.status = r.value("status", "");
      s.diagnostic = r.value("diagnostic", "");
      s.remote_mta = r.value("remote_mta", "");
      s.reported = r.value("reported", false);
      s.delay_reported = r.value("delay_reported", false);
      parsed.push_back(std::move(s));
    }
    e.state = *state;
    e.next_attempt = j.at("next_attempt").get<TimePoint>();
    e.attempts = j.at("attempts").get<int>();
    e.last_reason = j.value("last_reason", "");
    e.recipients = std::move(parsed);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

}  // namespace mailsim::mta
