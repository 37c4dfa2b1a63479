// The MTA's outbound transport: real SMTP (real/smtp's ClientSession) over a
// Connector's byte streams, with STARTTLS through mailsim::Channel. One
// Connection is one TCP connection that carries several messages in a row.
//
// Lifetimes: the transport owns every link it opened; a Connection handed to
// the MTA is a handle. Dropping the handle says QUIT; the link closes and is
// freed later, on its own. The transport must outlive the Mta that uses it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "real/mta/transport.h"
#include "real/session/channel.h"
#include "real/smtp/client.h"
#include "real/tls/tls_context.h"

namespace mailsim::mta {

struct SmtpTransportOptions {
  // Client TLS context (trust anchors). Without one, STARTTLS is never tried:
  // TlsPolicy::required then fails every connection.
  std::optional<tls::TlsContext> tls;
  // Longest wait for any one reply before giving the connection up (Postfix
  // smtp_*_timeout). 0 disables the timer.
  Duration reply_timeout = 300 * kSecond;
  // Observers for the trace: the channel (bytes on the wire, TLS) and the
  // client session (commands, replies) of every connection.
  std::function<std::function<void(const ChannelEvent&)>(const OpenRequest&)> channel_observer;
  std::function<void(const OpenRequest&, const smtp::ClientEvent&)> client_observer;
  // Called once a link has been freed, or after a failed connect has been
  // reported: the moments live_links() may have dropped. The transport may
  // not be destroyed inside this call (schedule that for a later turn).
  std::function<void()> on_link_freed;
};

class SmtpTransport final : public Transport {
 public:
  SmtpTransport(Connector& connector, Clock& clock, SmtpTransportOptions options = {});
  ~SmtpTransport() override;

  void open(const OpenRequest& request, std::function<void(OpenResult)> done) override;

  // Links still open (connected, or closing).
  std::size_t live_links() const { return links_.size(); }

  class Link;  // one connection; public for the handle, defined in the .cpp

 private:
  void forget(Link* link);  // deferred: frees the link on a later turn

  Connector& connector_;
  Clock& clock_;
  SmtpTransportOptions options_;
  std::map<Link*, std::shared_ptr<Link>> links_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// smtp::Reply (multi-line) to the MTA's one-line Reply and back.
Reply from_smtp(const smtp::Reply& r);
smtp::Reply to_smtp(const Reply& r);

}  // namespace mailsim::mta
