// Applying the view's toggles to a scenario document (see toggles.h).
#include "ui/model/toggles.h"

#include <fmt/format.h>

namespace mailsim::ui {

namespace {

bool is_server(const nlohmann::json& h) {
  const std::string role = h.value("role", "client");
  return role == "mta" || role == "relay";
}

void set_toggle(nlohmann::json& obj, const char* key, const char* value) { obj[key] = value; }

}  // namespace

std::vector<std::string> server_names(const nlohmann::json& doc) {
  std::vector<std::string> out;
  if (doc.contains("hosts") && doc["hosts"].is_array())
    for (const auto& h : doc["hosts"])
      if (h.is_object() && is_server(h) && h.contains("name")) out.push_back(h["name"].get<std::string>());
  return out;
}

nlohmann::json apply_toggles(const nlohmann::json& document, const Toggles& t) {
  nlohmann::json doc = document;
  if (!doc.contains("hosts") || !doc["hosts"].is_array()) return doc;
  for (auto& h : doc["hosts"]) {
    if (!h.is_object()) continue;
    const std::string role = h.value("role", "client");
    if (is_server(h)) {
      if (t.starttls) {
        const bool on = *t.starttls;
        if (h.contains("submission") && h["submission"].is_object())
          set_toggle(h["submission"], "tls", on ? "required" : "off");
        set_toggle(h["mx"], "tls", on ? "optional" : "off");
        set_toggle(h["relay"], "outbound_tls", on ? "optional" : "off");
        for (const char* svc : {"pop3", "imap"})
          if (h.contains(svc) && h[svc].is_object()) set_toggle(h[svc], "tls", on ? "required" : "off");
      }
      if (t.auth && h.contains("submission") && h["submission"].is_object())
        set_toggle(h["submission"], "auth", *t.auth ? "required" : "off");
      if (t.open_relay) h["relay"]["open_relay"] = *t.open_relay;
    } else if (role == "client") {
      if (t.starttls) {
        set_toggle(h["outgoing"], "tls", *t.starttls ? "required" : "off");
        if (h.contains("fetch") && h["fetch"].is_object()) set_toggle(h["fetch"], "tls", *t.starttls ? "required" : "off");
      }
      if (t.auth) h["outgoing"]["auth"] = *t.auth;
    }
  }
  if (!t.down_host.empty()) {
    auto& timeline = doc["timeline"];
    if (!timeline.is_array()) timeline = nlohmann::json::array();
    // Closed from the very start: the first entry, so it happens before any send.
    timeline.insert(timeline.begin(), nlohmann::json{{"at", "0s"}, {"down", t.down_host}});
    // Drop the scenario's own "up" for that host: it stays closed.
    for (auto it = timeline.begin(); it != timeline.end();) {
      if (it->is_object() && it->contains("up") && (*it)["up"] == t.down_host)
        it = timeline.erase(it);
      else
        ++it;
    }
  }
  if (t.unknown_recipient && doc.contains("timeline") && doc["timeline"].is_array()) {
    for (auto& item : doc["timeline"]) {
      if (!item.is_object() || !item.contains("send")) continue;
      auto& to = item["send"]["to"];
      auto rewrite = [](nlohmann::json& addr) {
        if (!addr.is_string()) return;
        const std::string a = addr.get<std::string>();
        const auto at = a.rfind('@');
        addr = std::string(kUnknownUser) + (at == std::string::npos ? "" : a.substr(at));
      };
      if (to.is_array() && !to.empty())
        rewrite(to[0]);
      else
        rewrite(to);
    }
    // Expectations were written for the scenario as it was; they no longer apply.
    doc.erase("expect");
  }
  if (t.any()) doc.erase("expect");
  return doc;
}

std::vector<std::string> describe_toggles(const Toggles& t, Lang lang) {
  std::vector<std::string> out;
  auto onoff = [&](bool v) { return std::string(tr(v ? S::kOn : S::kOff, lang)); };
  if (t.starttls) out.push_back(fmt::format("STARTTLS {}", onoff(*t.starttls)));
  if (t.auth) out.push_back(fmt::format("AUTH {}", onoff(*t.auth)));
  if (t.open_relay) out.push_back(fmt::format("{} {}", tr(S::kOpenRelay, lang), onoff(*t.open_relay)));
  if (!t.down_host.empty()) out.push_back(fmt::format("{}: {}", tr(S::kServerDown, lang), t.down_host));
  if (t.unknown_recipient) out.push_back(fmt::format("{}: {}@...", tr(S::kUnknownRecipient, lang), kUnknownUser));
  return out;
}

}  // namespace mailsim::ui
