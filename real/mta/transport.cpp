// Shared wording of connection failures (RFC 3463 X.4.1 "No answer from host").
#include "real/mta/transport.h"

namespace mailsim::mta {

std::string_view to_string(ConnectError e) {
  switch (e) {
    case ConnectError::none: return "connected";
    case ConnectError::refused: return "Connection refused";
    case ConnectError::timeout: return "Connection timed out";
    case ConnectError::unreachable: return "No route to host";
  }
  return "?";
}

Reply connect_failure_reply(const std::string& host, const std::string& address, std::uint16_t port,
                            ConnectError error, const std::string& detail) {
  std::string text = "connect to " + host + "[" + address + "]:" + std::to_string(port) + ": " +
                     std::string(to_string(error));
  if (!detail.empty() && detail != to_string(error)) text += " (" + detail + ")";
  return make_reply(421, "4.4.1", text);
}

}  // namespace mailsim::mta
