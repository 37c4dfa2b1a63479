// Helpers shared by the SMTP tests: escaping bytes for readable golden files,
// splitting input at every position, and wiring a client to a server with no
// sockets in between (with a fake TLS step).
#pragma once

#include "real/smtp/client.h"
#include "real/smtp/server.h"

#include <string>
#include <string_view>
#include <vector>

namespace mailsim::smtp::test {

// "\r\n" → "\\r\\n", NUL → "\\0", bytes outside printable ASCII → "\\xHH".
std::string escape(std::string_view bytes);
// The inverse of escape() (also accepts "\\t").
std::string unescape(std::string_view text);

// Chunkings of `input` for parser tests: whole, one byte at a time, and
// split in two at every position.
std::vector<std::vector<std::string>> chunkings(std::string_view input);

// A server driven by a handler; feeds input and collects every output.
struct ServerHarness {
  explicit ServerHarness(ServerConfig config = {}, ServerHandler* handler = nullptr);
  // Feeds bytes (in one call), answers the decisions, returns the output.
  std::string send(std::string_view bytes);
  std::vector<ServerEvent> events;  // every event seen so far
  ServerSession session;
  AcceptAllHandler accept_all;
  ServerHandler* handler;
  std::string greeting;
  // Replies sent by the server, from ReplySent events, in order.
  std::vector<Reply> replies() const;
};

// The fake TLS step used by tests (what real/tls would negotiate).
TlsInfo fake_tls();

// Client and server back to back. run() moves bytes both ways until neither
// side has anything more to say; a side that asks for TLS gets the fake TLS
// step (both at once, as a handshake would).
struct Wire {
  Wire(ClientConfig client_config, ServerConfig server_config, ServerHandler* handler = nullptr);
  void run();
  std::vector<ClientEvent> client_events;  // every client event seen
  std::vector<ServerEvent> server_events;  // every server event seen
  std::string client_to_server;            // all bytes the client sent (plaintext)
  ClientSession client;
  ServerSession server;
  AcceptAllHandler accept_all;
  ServerHandler* handler;
  bool server_closed = false;
  bool client_closed = false;
};

}  // namespace mailsim::smtp::test
