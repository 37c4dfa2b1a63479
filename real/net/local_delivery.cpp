// Local delivery: recipient checks and durable Maildir copies with the
// final-delivery header fields.
#include "real/net/local_delivery.h"

#include "real/mta/headers.h"
#include "real/smtp/server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace mailsim::net {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string new_queue_id() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t start = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const std::uint64_t n = counter.fetch_add(1);
  char buf[32];
  // 24 bits of start time, 24 bits of sequence: readable and short, like
  // Postfix's queue ids.
  std::snprintf(buf, sizeof buf, "%06llX%06llX", static_cast<unsigned long long>(start & 0xFFFFFF),
                static_cast<unsigned long long>(n & 0xFFFFFF));
  return buf;
}

LocalDelivery::LocalDelivery(LocalDeliveryOptions options)
    : options_(std::move(options)), drop_(options_.hostname, options_.fsync_threads) {
  for (const auto& u : options_.users) users_.emplace(lower(u), u);
}

std::string LocalDelivery::mailbox_for(std::string_view address) const {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  const std::string domain = lower(address.substr(at + 1));
  const bool local = std::any_of(options_.local_domains.begin(), options_.local_domains.end(),
                                 [&](const std::string& d) { return lower(d) == domain; });
  if (!local) return "";
  const std::string local_part = lower(address.substr(0, at));
  if (auto it = users_.find(local_part); it != users_.end()) return it->second;
  // RFC 5321 §4.5.1: every domain that receives mail has a postmaster.
  if (local_part == "postmaster" && !options_.users.empty()) return options_.users.front();
  return "";
}

std::filesystem::path LocalDelivery::maildir_of(const std::string& mailbox) const {
  return options_.maildir_root / mailbox / "Maildir";
}

smtp::Reply LocalDelivery::check_recipient(std::string_view address, bool relay) const {
  if (relay) {
    return smtp::make_reply(550, "5.7.1",
                            "<" + std::string(address) +
                                ">: this server delivers to its own domains only (no outbound relay yet)");
  }
  if (mailbox_for(address).empty())
    return smtp::make_reply(550, "5.1.1", "<" + std::string(address) + ">: Recipient address rejected: User unknown");
  return smtp::replies::rcpt_ok();
}

void LocalDelivery::accept(InboundMessage message, std::function<void(smtp::Reply)> done) {
  std::vector<MaildirCopy> copies;
  std::vector<std::string> mailboxes;
  for (const auto& rcpt : message.envelope.recipients) {
    const std::string mailbox = mailbox_for(rcpt);
    if (mailbox.empty()) continue;  // check_recipient refused it already
    mailboxes.push_back(mailbox);
    copies.push_back(MaildirCopy{maildir_of(mailbox),
                                 mta::with_delivery_fields(message.data, message.envelope.reverse_path, rcpt), {}});
  }
  if (copies.empty()) {
    done(smtp::make_reply(554, "5.5.1", "Error: no valid recipients"));
    return;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  drop_.deliver(std::move(copies), now,
                [this, done = std::move(done), id = message.queue_id,
                 mailboxes = std::move(mailboxes)](std::optional<std::string> error) {
                  if (error) {
                    // Keep the disk's complaint in the server's log, not on the wire.
                    std::fprintf(stderr, "mailsim serve: delivery of %s failed: %s\n", id.c_str(), error->c_str());
                    done(smtp::replies::try_later());
                  } else {
                    done(smtp::replies::queued(id));
                    if (options_.on_delivered)
                      for (const auto& m : mailboxes) options_.on_delivered(m);
                  }
                });
}

}  // namespace mailsim::net
