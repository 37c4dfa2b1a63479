// Local delivery for `mailsim serve`: each local recipient gets a copy with
// Return-Path: and Delivered-To: on top (RFC 5321 §4.4: the final delivery
// adds Return-Path), written durably into <root>/<user>/Maildir/new/ by the
// group-committing MaildirDrop before the SMTP client hears 250.
// Boost-free.
#pragma once

#include "real/net/maildir_drop.h"
#include "real/net/message_sink.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mailsim::net {

struct LocalDeliveryOptions {
  std::filesystem::path maildir_root;       // <root>/<user>/Maildir
  std::vector<std::string> local_domains;   // compared case-insensitively
  std::vector<std::string> users;           // mailbox names (compared case-insensitively)
  std::string hostname;                     // for Maildir file names
  unsigned fsync_threads = 8;
  // Called (on the delivery thread) for each mailbox that got a message, once
  // it is durable: wakes IMAP IDLE sessions. May be empty.
  std::function<void(const std::string& mailbox)> on_delivered;
};

class LocalDelivery final : public MessageSink {
 public:
  // The users' Maildirs must exist (MailboxStore::ensure_user makes them).
  explicit LocalDelivery(LocalDeliveryOptions options);

  // Local domain + known user (or postmaster, RFC 5321 §4.5.1, delivered to
  // the first user): 250; local domain, unknown user: 550 5.1.1; another
  // domain: 550 5.7.1 (this sink delivers locally only; the MTA relays).
  smtp::Reply check_recipient(std::string_view address, bool relay) const override;
  void accept(InboundMessage message, std::function<void(smtp::Reply)> done) override;

  // The mailbox name for a local address, or "" if none.
  std::string mailbox_for(std::string_view address) const;
  std::filesystem::path maildir_of(const std::string& mailbox) const;
  MaildirDropStats stats() const { return drop_.stats(); }

 private:
  LocalDeliveryOptions options_;
  std::map<std::string, std::string> users_;  // lower-case name -> configured name
  MaildirDrop drop_;
};

// A queue id: 12 upper-case hex digits, unique within this process and
// unlikely to repeat across restarts (time-based prefix).
std::string new_queue_id();

}  // namespace mailsim::net
