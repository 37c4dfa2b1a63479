// Where the SMTP glue hands an accepted message: local Maildir delivery now
// (real/net/local_delivery.h), the MTA's durable queue later. The glue decides
// the relay question; the sink says which recipients it can take and makes
// the message durable before the client hears 250. Boost-free.
#pragma once

#include "real/smtp/envelope.h"
#include "real/smtp/reply.h"

#include <functional>
#include <string>
#include <string_view>

namespace mailsim::net {

struct InboundMessage {
  smtp::Envelope envelope;  // reverse path, recipients, HELO, peer, TLS, AUTH
  std::string data;         // CRLF form, this hop's Received: already on top
  std::string queue_id;     // the id named in Received: and in the 250 reply
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;

  // The RCPT reply for `address` ("local@domain"), given that the relay
  // policy already said the client may send there (`relay` = the domain is
  // not local). Synchronous and cheap; called on an io thread; thread-safe.
  virtual smtp::Reply check_recipient(std::string_view address, bool relay) const = 0;

  // Takes the message. Calls `done` exactly once, from any thread, when the
  // message is durable ("250 2.0.0 Ok: queued as <id>") or with a 4xx/5xx
  // reply. Must not block the caller (an io thread).
  virtual void accept(InboundMessage message, std::function<void(smtp::Reply)> done) = 0;
};

}  // namespace mailsim::net
