// Expectation checks over the trace (see expect.h).
#include "sim/world/expect.h"

#include "sim/engine/duration.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace mailsim::sim {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool in_window(Time t, const TimeWindow& w) { return (!w.after || t >= *w.after) && (!w.before || t < *w.before); }

std::string window_words(const TimeWindow& w) {
  std::string out;
  if (w.after) out += " after " + format_duration(*w.after);
  if (w.before) out += " before " + format_duration(*w.before);
  return out;
}

bool code_matches(int code, const std::string& pattern) {
  const std::string c = std::to_string(code);
  if (pattern.size() != 3 || c.size() != 3) return false;
  for (int i = 0; i < 3; ++i)
    if (pattern[i] != 'x' && pattern[i] != c[i]) return false;
  return true;
}

ExpectResult check(const ExpectDelivered& e, const Trace& trace) {
  ExpectResult r;
  r.summary = e.to + " receives a letter" + window_words(e.when);
  if (e.received_headers) r.summary += " with " + std::to_string(*e.received_headers) + " Received: headers";
  if (e.subject) r.summary += " with subject \"" + *e.subject + "\"";
  int matches = 0;
  std::string seen;
  for (const auto* ev : trace.of_kind(EventKind::kDelivery)) {
    const auto* m = ev->as<MessagePayload>();
    if (lower(m->recipient) != e.to) continue;
    seen += (seen.empty() ? "" : "; ") + std::string("delivered at ") + format_duration(ev->time) + " with " +
            std::to_string(m->received_headers) + " Received: headers";
    if (!in_window(ev->time, e.when)) continue;
    if (e.received_headers && m->received_headers != *e.received_headers) continue;
    if (e.subject && m->subject != *e.subject) continue;
    ++matches;
  }
  r.met = e.count ? matches == *e.count : matches > 0;
  if (e.count) r.summary += " (" + std::to_string(*e.count) + " times)";
  r.explanation = seen.empty() ? "no letter was delivered to " + e.to : seen;
  return r;
}

ExpectResult check(const ExpectNotDelivered& e, const Trace& trace) {
  ExpectResult r;
  r.summary = e.to + " receives nothing" + window_words(e.when);
  r.met = true;
  r.explanation = "nothing was delivered to " + e.to;
  for (const auto* ev : trace.of_kind(EventKind::kDelivery)) {
    const auto* m = ev->as<MessagePayload>();
    if (lower(m->recipient) == e.to && in_window(ev->time, e.when)) {
      r.met = false;
      r.explanation = "a letter was delivered at " + format_duration(ev->time);
      break;
    }
  }
  return r;
}

ExpectResult check(const ExpectBounced& e, const Trace& trace) {
  ExpectResult r;
  r.summary = "a letter" + (e.to.empty() ? "" : " to " + e.to) + " bounces" +
              (e.from.empty() ? "" : " back to " + e.from) + (e.status.empty() ? "" : " with status " + e.status) +
              window_words(e.when);
  std::string seen;
  for (const auto* ev : trace.of_kind(EventKind::kBounce)) {
    const auto* m = ev->as<MessagePayload>();
    seen += (seen.empty() ? "" : "; ") + m->recipient + " bounced at " + format_duration(ev->time) + " (" + m->status + ")";
    if (!e.to.empty() && lower(m->recipient) != e.to) continue;
    if (!e.from.empty() && lower(m->sender) != e.from) continue;
    if (!e.status.empty() && !m->status.starts_with(e.status)) continue;
    if (!in_window(ev->time, e.when)) continue;
    r.met = true;
  }
  r.explanation = seen.empty() ? "nothing bounced" : seen;
  return r;
}

ExpectResult check(const ExpectDeferred& e, const Trace& trace) {
  ExpectResult r;
  r.summary = e.host + " keeps a letter and tries again";
  if (e.min) r.summary += ", at least " + std::to_string(*e.min) + " times";
  if (e.max) r.summary += ", at most " + std::to_string(*e.max) + " times";
  int n = 0;
  for (const auto* ev : trace.of_kind(EventKind::kQueue))
    if (ev->host == e.host && ev->as<QueuePayload>()->state == "deferred") ++n;
  r.met = (!e.min || n >= *e.min) && (!e.max || n <= *e.max) && (e.min || e.max || n > 0);
  r.explanation = e.host + " deferred " + std::to_string(n) + " times";
  return r;
}

ExpectResult check(const ExpectRejected& e, const Trace& trace) {
  ExpectResult r;
  r.summary = (e.host.empty() ? std::string("a server") : e.host) + " answers " + e.code +
              (e.command.empty() ? "" : " to " + e.command);
  std::map<std::pair<std::string, ConnId>, std::string> last_verb;
  std::string seen;
  for (const auto& ev : trace.events()) {
    if (const auto* c = ev.as<CommandPayload>(); c && c->side == "server") last_verb[{ev.host, ev.conn}] = c->verb;
    const auto* rep = ev.as<ReplyPayload>();
    if (rep == nullptr || rep->side != "server" || rep->code < 400) continue;
    const std::string verb = last_verb[{ev.host, ev.conn}];
    seen += (seen.empty() ? "" : "; ") + ev.host + " answered " + std::to_string(rep->code) + (verb.empty() ? "" : " to " + verb);
    if (!e.host.empty() && ev.host != e.host) continue;
    if (!e.command.empty() && lower(verb) != lower(e.command)) continue;
    if (code_matches(rep->code, e.code)) r.met = true;
  }
  r.explanation = seen.empty() ? "no server refused anything" : seen;
  return r;
}

ExpectResult check(const ExpectEavesdropper& e, const Trace& trace) {
  ExpectResult r;
  const std::string who = e.host.empty() ? "the eavesdropper" : e.host;
  // What each listener read in the clear, per connection and direction.
  std::map<std::tuple<std::string, ConnId, std::string>, std::string> streams;
  for (const auto* ev : trace.of_kind(EventKind::kCapture)) {
    const auto* c = ev->as<CapturePayload>();
    if (!e.host.empty() && ev->host != e.host) continue;
    if (c->encrypted) continue;
    streams[{ev->host, ev->conn, c->from}] += c->data.value;
  }
  auto seen = [&](const std::string& text) {
    return std::any_of(streams.begin(), streams.end(), [&](const auto& s) { return s.second.find(text) != std::string::npos; });
  };
  r.met = true;
  if (!e.saw.empty()) {
    r.summary = who + " reads \"" + e.saw + "\"";
    r.met = seen(e.saw);
    r.explanation = r.met ? "captured in the clear" : "never captured in the clear";
  }
  if (!e.did_not_see.empty()) {
    r.summary += (r.summary.empty() ? "" : ", and ") + who + " cannot read \"" + e.did_not_see + "\"";
    const bool leaked = seen(e.did_not_see);
    r.met = r.met && !leaked;
    r.explanation += std::string(r.explanation.empty() ? "" : "; ") + "\"" + e.did_not_see + "\" " +
                     (leaked ? "was captured in the clear" : "never crossed the tap in the clear");
  }
  return r;
}

ExpectResult check(const ExpectMailbox& e, const Trace& trace) {
  ExpectResult r;
  r.summary = e.user + "'s mailbox holds " + std::to_string(e.count) + " letters at the end";
  int count = 0;
  bool any = false;
  for (const auto* ev : trace.of_kind(EventKind::kMailbox)) {
    const auto* m = ev->as<MailboxPayload>();
    if (lower(m->user) != e.user || (!e.host.empty() && ev->host != e.host)) continue;
    count = m->count;
    any = true;
  }
  r.met = count == e.count;
  r.explanation = any ? "it holds " + std::to_string(count) : "it never received anything";
  return r;
}

}  // namespace

std::vector<ExpectResult> check_expectations(const Scenario& scenario, const Trace& trace) {
  std::vector<ExpectResult> results;
  for (const auto& item : scenario.expect) {
    ExpectResult r = std::visit([&](const auto& e) { return check(e, trace); }, item.expectation);
    r.item = &item;
    if (!item.description.empty()) r.summary = item.description + " (" + r.summary + ")";
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace mailsim::sim
