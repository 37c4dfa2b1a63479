// The spammer role (see spammer.h).
#include "sim/roles/spammer.h"

#include "real/message/compose.h"
#include "real/mta/address.h"

#include <algorithm>
#include <map>

namespace mailsim::sim::roles {

std::string Spammer::letter(const SpamAction& action, const std::vector<std::string>& recipients, int number) {
  message::TextMessage m;
  m.from = {"Lottery Office", action.sender};
  for (const auto& r : recipients) m.to.push_back({"", r});
  m.subject = action.subject;
  m.body = "Congratulations! You have won 1,000,000.\nSend your bank details to claim your prize.\n";
  m.date = ctx_.clock.unix_seconds();
  m.message_id = message::make_message_id(m.date, ctx_.next_message_number() * 1000 + static_cast<std::uint64_t>(number),
                                          mta::domain_of(action.sender));
  return message::compose_text_message(m);
}

void Spammer::spam(const SpamAction& action) {
  if (!action.via.empty()) {
    ctx_.note(spec_.name, "tries to push " + std::to_string(action.count) + " junk letter(s) through " + action.via);
    return send_via(action.via, action, action.to);
  }
  // No relay to abuse: straight to each town's post office, found by MX.
  std::map<std::string, std::vector<std::string>> by_domain;
  for (const auto& r : action.to) by_domain[mta::domain_of(r)].push_back(r);
  for (auto& [domain, rcpts] : by_domain) {
    ctx_.world.resolver(id_).query(domain, DnsType::kMx, [this, action, rcpts, domain](const DnsAnswer& a) {
      std::vector<DnsRecord> mx = a.records;
      std::stable_sort(mx.begin(), mx.end(), [](const auto& x, const auto& y) { return x.preference < y.preference; });
      if (mx.empty() || mx.front().value == ".") {
        ctx_.note(spec_.name, "finds no mail server for " + domain);
        return;
      }
      send_via(mx.front().value, action, rcpts);
    });
  }
}

void Spammer::send_via(const std::string& server, const SpamAction& action, std::vector<std::string> recipients) {
  ctx_.connect_by_name(id_, server, 25, [this, server, action, recipients](const ConnectResult& r) {
    if (!r.ok()) {
      ctx_.note(spec_.name, "cannot reach " + server + ": " + r.reason);
      return;
    }
    smtp::ClientConfig config;
    config.helo_name = spec_.name;
    config.starttls = smtp::StartTlsPolicy::kNever;  // junk mail software does not bother
    auto session = std::make_unique<smtp::ClientSession>(config);
    smtp::ClientSession* s = session.get();
    for (int i = 1; i <= action.count; ++i) {
      smtp::Envelope envelope;
      envelope.reverse_path = action.sender;
      envelope.recipients = recipients;
      s->send(envelope, letter(action, recipients, i));
    }
    s->quit();
    auto tracer =
        std::make_shared<ConnTracer>(ctx_.trace, spec_.name, r.socket.id(), "smtp", true, ctx_.options.record_data);
    ChannelOptions co;
    co.role = tls::TlsRole::kClient;
    co.observer = ConnTracer::observer(tracer);
    auto drain = [s, tracer, server] {
      while (auto ev = s->next_event()) {
        tracer->on_smtp(*ev);
        if (const auto* t = std::get_if<smtp::client_events::TransactionResult>(&*ev)) {
          std::size_t taken = 0;
          for (const auto& o : t->recipients) taken += o.delivered ? 1 : 0;
          tracer->note(t->accepted ? server + " took the junk letter for " + std::to_string(taken) + " recipient(s)"
                                   : server + " refused the junk letter");
        }
      }
    };
    ctx_.host_session(std::move(session), std::move(co), r.socket, std::move(drain)).start();
  });
}

}  // namespace mailsim::sim::roles
