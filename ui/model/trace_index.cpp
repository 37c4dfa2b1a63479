// Working out connections, letters, flights, markers and step points from a
// trace (see trace_index.h). SMTP content is read from the client's plaintext
// (RFC 5321 §4.1.4 DATA, §4.5.2 dot-stuffing); POP3 RETR (RFC 1939 §7) and
// IMAP FETCH literals (RFC 3501 §4.3) give the letter as it was collected.
#include "ui/model/trace_index.h"

#include "real/codec/base64.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace mailsim::ui {

namespace {

using sim::EventKind;

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(s[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// "<a@b>" inside a MAIL/RCPT line; "" for the null sender "<>".
std::string angle_address(std::string_view line) {
  const auto open = line.find('<');
  const auto close = line.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) {
    const auto colon = line.find(':');
    return colon == std::string_view::npos ? std::string{} : trim(line.substr(colon + 1));
  }
  return std::string(line.substr(open + 1, close - open - 1));
}

std::string norm_id(std::string_view id) {
  std::string s = trim(id);
  if (!s.empty() && s.front() == '<') s.erase(0, 1);
  if (!s.empty() && s.back() == '>') s.pop_back();
  return s;
}

std::string protocol_of_port(std::uint16_t port) {
  switch (port) {
    case 25: case 465: case 587: case 2525: case 2587: return "smtp";
    case 110: case 995: case 1110: return "pop3";
    case 143: case 993: case 1143: return "imap";
    default: return "";
  }
}

// A byte stream assembled from data events, remembering which event each
// byte came from.
struct Stream {
  std::string bytes;
  std::vector<std::pair<std::size_t, std::size_t>> pieces;  // (end offset, event index)
  std::size_t event_at(std::size_t offset) const {
    for (const auto& [end, ev] : pieces)
      if (offset < end) return ev;
    return pieces.empty() ? 0 : pieces.back().second;
  }
};

// The message part of [from, to) of a stream, dot-unstuffed (RFC 5321 §4.5.2).
std::string unstuff(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool line_start = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (line_start && raw[i] == '.' && i + 1 < raw.size() && raw[i + 1] == '.') continue;
    out.push_back(raw[i]);
    line_start = raw[i] == '\n';
  }
  return out;
}

}  // namespace

bool looks_like_tls(std::string_view b) {
  return b.size() >= 5 && static_cast<unsigned char>(b[0]) >= 20 && static_cast<unsigned char>(b[0]) <= 23 &&
         static_cast<unsigned char>(b[1]) == 3 && static_cast<unsigned char>(b[2]) <= 4;
}

std::string header_value(const std::string& content, std::string_view name) {
  std::size_t pos = 0;
  std::string value;
  bool in_field = false;
  while (pos < content.size()) {
    auto eol = content.find('\n', pos);
    if (eol == std::string::npos) eol = content.size();
    std::string_view line(content.data() + pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    if (line.front() == ' ' || line.front() == '\t') {
      if (in_field) value += " " + trim(line);
    } else {
      if (in_field) return value;
      const auto colon = line.find(':');
      if (colon != std::string_view::npos && colon == name.size() && starts_with_ci(line, name)) {
        in_field = true;
        value = trim(line.substr(colon + 1));
      }
    }
    pos = eol + 1;
  }
  return in_field ? value : std::string{};
}

std::vector<Postmark> read_postmarks(const std::string& content) {
  std::vector<Postmark> out;
  std::size_t pos = 0;
  std::string current;
  auto finish = [&] {
    if (current.empty()) return;
    Postmark p;
    p.raw = current;
    std::string body = trim(std::string_view(current).substr(9));  // after "Received:"
    const auto semi = body.rfind(';');
    if (semi != std::string::npos) {
      p.date = trim(std::string_view(body).substr(semi + 1));
      body = body.substr(0, semi);
    }
    // Clauses: from X (...) by Y (...) with Z id W for <...>
    std::vector<std::string> words;
    std::string word;
    int depth = 0;
    for (char c : body) {
      if (c == '(') ++depth;
      if (depth == 0 && std::isspace(static_cast<unsigned char>(c))) {
        if (!word.empty()) words.push_back(word);
        word.clear();
      } else if (depth == 0) {
        word.push_back(c);
      }
      if (c == ')' && depth > 0) --depth;
    }
    if (!word.empty()) words.push_back(word);
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      const std::string w = upper(words[i]);
      if (w == "FROM" && p.from.empty()) p.from = words[i + 1];
      if (w == "BY" && p.by.empty()) p.by = words[i + 1];
      if (w == "WITH" && p.with.empty()) p.with = words[i + 1];
    }
    out.push_back(std::move(p));
    current.clear();
  };
  while (pos < content.size()) {
    auto eol = content.find('\n', pos);
    if (eol == std::string::npos) eol = content.size();
    std::string_view line(content.data() + pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      if (!current.empty()) current += " " + trim(line);
    } else {
      finish();
      if (starts_with_ci(line, "Received:")) current = std::string(line);
    }
    pos = eol + 1;
  }
  finish();
  return out;
}

TraceIndex::TraceIndex(World world, std::vector<TraceEvent> events)
    : world_(std::move(world)), events_(std::move(events)) {
  // Events must be in time order for every binary search below; a hand-made
  // file might not be, and a stable sort keeps same-time events in order.
  std::stable_sort(events_.begin(), events_.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.time < b.time; });
  for (std::size_t i = 0; i < events_.size(); ++i) events_[i].seq = i;
  if (!events_.empty()) end_time_ = events_.back().time;
  index_connections();
  index_transfers();
  index_flights();
  index_rest();
  index_queue();
}

const Connection* TraceIndex::connection(ConnId id) const {
  const auto it = conn_pos_.find(id);
  return it == conn_pos_.end() ? nullptr : &connections_[it->second];
}

std::vector<const Transfer*> TraceIndex::transfers_of(const std::string& message_id) const {
  std::vector<const Transfer*> out;
  const std::string id = norm_id(message_id);
  for (const auto& t : transfers_)
    if (t.message_id == id) out.push_back(&t);
  return out;
}

std::string TraceIndex::message_of_queue_entry(const std::string& host, const std::string& queue_id) const {
  const auto it = queue_message_.find({host, queue_id});
  return it == queue_message_.end() ? std::string{} : it->second;
}

std::size_t TraceIndex::events_until(Time t) const {
  const auto it = std::upper_bound(events_.begin(), events_.end(), t,
                                   [](Time v, const TraceEvent& e) { return v < e.time; });
  return static_cast<std::size_t>(it - events_.begin());
}

void TraceIndex::index_connections() {
  struct Lines {
    std::vector<std::size_t> client_cmds, server_cmds, server_replies, client_replies;
  };
  std::map<ConnId, Lines> lines;
  auto ensure = [&](ConnId id, std::size_t i) -> Connection& {
    auto [it, fresh] = conn_pos_.emplace(id, connections_.size());
    if (fresh) {
      Connection c;
      c.id = id;
      c.start = events_[i].time;
      c.first_event = i;
      connections_.push_back(std::move(c));
    }
    return connections_[it->second];
  };
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const auto& e = events_[i];
    if (e.conn == 0) continue;
    if (const auto* c = e.as<sim::ConnPayload>()) {
      Connection& conn = ensure(e.conn, i);
      switch (e.kind) {
        case EventKind::kConnect:
        case EventKind::kConnected:
        case EventKind::kRefused:
        case EventKind::kConnectTimeout:
          if (conn.client.empty()) conn.client = e.host;
          if (conn.server.empty()) conn.server = c->peer;
          if (conn.port == 0) conn.port = c->remote_port;
          break;
        case EventKind::kAccept:
          if (conn.server.empty()) conn.server = e.host;
          if (conn.client.empty()) conn.client = c->peer;
          if (conn.port == 0) conn.port = c->local_port;
          break;
        default: break;
      }
      if (e.kind == EventKind::kRefused || e.kind == EventKind::kConnectTimeout || e.kind == EventKind::kReset ||
          e.kind == EventKind::kClose) {
        conn.end = e.time;
        conn.end_event = i;
        if (conn.outcome.empty() || conn.outcome == "closed")
          conn.outcome = e.kind == EventKind::kRefused          ? "refused"
                         : e.kind == EventKind::kConnectTimeout ? "timeout"
                         : e.kind == EventKind::kReset          ? "reset"
                                                                : "closed";
      }
      continue;
    }
    Connection& conn = ensure(e.conn, i);
    if (const auto* cmd = e.as<sim::CommandPayload>()) {
      (cmd->side == "server" ? lines[e.conn].server_cmds : lines[e.conn].client_cmds).push_back(i);
      if (conn.protocol.empty()) conn.protocol = cmd->protocol;
    } else if (const auto* r = e.as<sim::ReplyPayload>()) {
      (r->side == "client" ? lines[e.conn].client_replies : lines[e.conn].server_replies).push_back(i);
      if (conn.protocol.empty()) conn.protocol = r->protocol;
    } else if (const auto* t = e.as<sim::TlsPayload>()) {
      if (t->ok && (!conn.tls_event || t->side == "client")) conn.tls_event = conn.tls_event ? conn.tls_event : i;
    } else if (const auto* a = e.as<sim::AuthPayload>()) {
      if (a->ok) conn.auth_user = a->user;
    } else if (e.as<sim::DataPayload>() != nullptr) {
      conn.data_events.push_back(i);
    }
  }
  std::set<std::string> spam_senders;
  for (auto& conn : connections_) {
    if (conn.protocol.empty()) conn.protocol = protocol_of_port(conn.port);
    if (const auto p = protocol_of_port(conn.port); !p.empty()) conn.protocol = p;
    conn.client_host = world_.find(conn.client);
    conn.server_host = world_.find(conn.server);
    // Each line as the side that sent it recorded it (the other copy is the
    // same words, received a moment later).
    auto& l = lines[conn.id];
    const auto& cmds = l.client_cmds.empty() ? l.server_cmds : l.client_cmds;
    const auto& replies = l.server_replies.empty() ? l.client_replies : l.server_replies;
    for (std::size_t i : cmds) {
      const auto* c = events_[i].as<sim::CommandPayload>();
      conn.lines.push_back({i, events_[i].time, true, c->line, 0});
    }
    for (std::size_t i : replies) {
      const auto* r = events_[i].as<sim::ReplyPayload>();
      std::string text = r->text;
      if (conn.protocol == "smtp" && r->code > 0) {
        // Show the reply as it was on the wire: "250-..." / "250 ...".
        std::string wire;
        std::size_t start = 0;
        std::vector<std::string> parts;
        while (start <= text.size()) {
          auto nl = text.find('\n', start);
          if (nl == std::string::npos) nl = text.size();
          parts.push_back(text.substr(start, nl - start));
          start = nl + 1;
        }
        const std::string code = std::to_string(r->code);
        for (std::size_t k = 0; k < parts.size(); ++k) {
          if (k) wire += "\n";
          const bool has_code = parts[k].rfind(code, 0) == 0;
          wire += has_code ? parts[k] : code + (k + 1 < parts.size() ? "-" : " ") + parts[k];
        }
        text = wire;
      } else if (conn.protocol == "pop3" && text.rfind("+OK", 0) != 0 && text.rfind("-ERR", 0) != 0 &&
                 text.rfind("+ ", 0) != 0) {
        text = (r->code == 1 ? "+OK " : "-ERR ") + text;
      }
      conn.lines.push_back({i, events_[i].time, false, text, r->code});
    }
    std::sort(conn.lines.begin(), conn.lines.end(), [](const ConvLine& a, const ConvLine& b) { return a.event < b.event; });
    if (conn.client_host && world_.hosts[*conn.client_host].place == Place::kSpammer) conn.spam = true;
    for (const auto& line : conn.lines)
      if (line.from_client && starts_with_ci(line.text, "MAIL FROM:")) {
        const std::string sender = angle_address(line.text);
        if (sender.empty()) conn.bounce = true;
        if (conn.spam) spam_senders.insert(sender);
      }
  }
  // Spam relayed onwards is still spam: the same envelope sender.
  for (auto& conn : connections_)
    for (const auto& line : conn.lines)
      if (line.from_client && starts_with_ci(line.text, "MAIL FROM:") && spam_senders.count(angle_address(line.text)))
        conn.spam = true;
}

void TraceIndex::index_transfers() {
  for (auto& conn : connections_) {
    // What each side sent, from its own record; failing that, from what the
    // other side recorded receiving (a host that keeps no data events).
    auto stream_of = [&](bool client_side) {
      Stream own, heard;
      for (std::size_t i : conn.data_events) {
        const auto& e = events_[i];
        const auto* d = e.as<sim::DataPayload>();
        const bool at_sender = (e.host == conn.client) == client_side;
        Stream* s = at_sender && d->direction == "out" ? &own : !at_sender && d->direction == "in" ? &heard : nullptr;
        if (s == nullptr) continue;
        s->bytes += d->data.value;
        s->pieces.push_back({s->bytes.size(), i});
      }
      return own.bytes.empty() ? heard : own;
    };
    const Stream client = stream_of(true);
    const Stream server = stream_of(false);

    auto make = [&](const Stream& s, std::size_t from, std::size_t to) {
      Transfer t;
      t.conn = conn.id;
      const std::size_t first = s.event_at(from), last = s.event_at(to == 0 ? 0 : to - 1);
      t.start = events_[first].time;
      t.end = events_[last].time;
      t.end_event = last;
      t.content = unstuff(std::string_view(s.bytes).substr(from, to - from));
      t.message_id = norm_id(header_value(t.content, "Message-ID"));
      t.subject = header_value(t.content, "Subject");
      t.postmarks = read_postmarks(t.content);
      if (const auto* d = events_[last].as<sim::DataPayload>()) t.tls = d->tls;
      t.spam = conn.spam;
      t.bounce = conn.bounce;
      return t;
    };

    if (conn.protocol == "smtp") {
      std::string mail_from;
      std::vector<std::string> rcpts;
      std::size_t pos = 0;
      const std::string& b = client.bytes;
      while (pos < b.size()) {
        const auto eol = b.find("\r\n", pos);
        if (eol == std::string::npos) break;
        const std::string_view line(b.data() + pos, eol - pos);
        pos = eol + 2;
        if (starts_with_ci(line, "MAIL FROM:")) {
          mail_from = angle_address(line);
          rcpts.clear();
        } else if (starts_with_ci(line, "RCPT TO:")) {
          rcpts.push_back(angle_address(line));
        } else if (starts_with_ci(line, "RSET")) {
          rcpts.clear();
        } else if (upper(trim(line)) == "DATA") {
          // The content ends with CRLF "." CRLF; the CRLF before the dot belongs to the content.
          std::size_t end;
          if (b.compare(pos, 3, ".\r\n") == 0)
            end = pos;
          else {
            const auto dot = b.find("\r\n.\r\n", pos);
            if (dot == std::string::npos) break;  // cut off: the letter never arrived whole
            end = dot + 2;
          }
          Transfer t = make(client, pos, end);
          t.from_host = conn.client;
          t.to_host = conn.server;
          t.mail_from = mail_from;
          t.rcpt_to = rcpts;
          t.end_event = client.event_at(end + 2);
          t.end = events_[t.end_event].time;
          conn.transfers.push_back(transfers_.size());
          transfers_.push_back(std::move(t));
          pos = end + 3;
          rcpts.clear();
        }
      }
    } else if (conn.protocol == "pop3") {
      // Pair the client's commands with the server's responses, in order.
      std::vector<std::string> cmds;
      {
        std::size_t pos = 0;
        while (true) {
          const auto eol = client.bytes.find("\r\n", pos);
          if (eol == std::string::npos) break;
          cmds.push_back(upper(client.bytes.substr(pos, eol - pos)));
          pos = eol + 2;
        }
      }
      const std::string& b = server.bytes;
      std::size_t pos = 0;
      auto skip_line = [&] {
        const auto eol = b.find("\r\n", pos);
        pos = eol == std::string::npos ? b.size() : eol + 2;
      };
      skip_line();  // greeting
      for (const auto& cmd : cmds) {
        if (pos >= b.size()) break;
        const bool ok = b.compare(pos, 3, "+OK") == 0;
        const bool multi = ok && (cmd.rfind("RETR", 0) == 0 || cmd.rfind("TOP", 0) == 0 || cmd == "LIST" ||
                                  cmd == "UIDL" || cmd == "CAPA");
        skip_line();
        if (!multi) continue;
        std::size_t end;
        if (b.compare(pos, 3, ".\r\n") == 0)
          end = pos;
        else {
          const auto dot = b.find("\r\n.\r\n", pos);
          if (dot == std::string::npos) break;
          end = dot + 2;
        }
        if (cmd.rfind("RETR", 0) == 0) {
          Transfer t = make(server, pos, end);
          t.from_host = conn.server;
          t.to_host = conn.client;
          conn.transfers.push_back(transfers_.size());
          transfers_.push_back(std::move(t));
        }
        pos = end + 3;
      }
    } else if (conn.protocol == "imap") {
      // Literals in FETCH responses: "* 1 FETCH (... BODY[] {123}\r\n<123 bytes>".
      const std::string& b = server.bytes;
      std::size_t pos = 0;
      while (pos < b.size()) {
        const auto eol = b.find("\r\n", pos);
        if (eol == std::string::npos) break;
        const std::string_view line(b.data() + pos, eol - pos);
        pos = eol + 2;
        if (line.size() < 3 || line.back() != '}' || line.rfind("* ", 0) != 0) continue;
        const std::string up = upper(line);
        if (up.find(" FETCH ") == std::string::npos) continue;
        if (up.find("BODY[]") == std::string::npos && up.find("RFC822") == std::string::npos &&
            up.find("BODY.PEEK[]") == std::string::npos)
          continue;
        const auto brace = line.rfind('{');
        const std::size_t n = std::strtoul(std::string(line.substr(brace + 1)).c_str(), nullptr, 10);
        if (pos + n > b.size()) break;
        Transfer t = make(server, pos, pos + n);
        t.from_host = conn.server;
        t.to_host = conn.client;
        conn.transfers.push_back(transfers_.size());
        transfers_.push_back(std::move(t));
        pos += n;
      }
    }
  }
  std::stable_sort(transfers_.begin(), transfers_.end(),
                   [](const Transfer& a, const Transfer& b) { return a.end_event < b.end_event; });
  for (auto& conn : connections_) conn.transfers.clear();
  std::set<std::string> seen;
  for (std::size_t i = 0; i < transfers_.size(); ++i) {
    if (auto it = conn_pos_.find(transfers_[i].conn); it != conn_pos_.end()) connections_[it->second].transfers.push_back(i);
    if (!transfers_[i].message_id.empty() && seen.insert(transfers_[i].message_id).second)
      message_ids_.push_back(transfers_[i].message_id);
  }
}

void TraceIndex::index_flights() {
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const auto& e = events_[i];
    const auto* p = e.as<sim::PacketPayload>();
    if (p == nullptr) continue;
    Flight f;
    f.event = i;
    f.start = e.time;
    f.conn = e.conn;
    f.bytes = p->data.value.size();
    if (p->flags.has(sim::TcpFlags::kRst))
      f.kind = FlightKind::kRefusal;
    else if (p->flags.has(sim::TcpFlags::kSyn))
      f.kind = FlightKind::kKnock;
    else if (p->data.value.empty())
      continue;  // pure ACK or FIN: bookkeeping, not worth a letter on the road
    else
      f.kind = FlightKind::kLine;
    std::vector<std::string> names = p->path;
    if (names.empty()) names = {p->from, p->to};
    bool known = true;
    for (const auto& n : names) {
      auto h = world_.find(n);
      if (!h) {
        known = false;
        break;
      }
      if (f.path.empty() || f.path.back() != *h) f.path.push_back(*h);
    }
    if (!known || f.path.size() < 2) continue;
    // Time on each road in proportion to its latency.
    std::vector<double> weight;
    double total = 0;
    for (std::size_t k = 0; k + 1 < f.path.size(); ++k) {
      const auto l = world_.link_between(f.path[k], f.path[k + 1]);
      const double w = l ? static_cast<double>(std::max<Time>(world_.links[*l].latency, 1)) : 1000.0;
      weight.push_back(w);
      total += w;
    }
    Time arrive = p->arrive > e.time ? p->arrive : e.time + static_cast<Time>(total);
    if (p->lost) arrive = e.time + std::max<Time>((arrive - e.time) / 2, 1);
    f.end = arrive;
    f.lost = p->lost;
    double acc = 0;
    for (double w : weight) {
      acc += w;
      f.leg_end.push_back(e.time + static_cast<Time>(static_cast<double>(arrive - e.time) * acc / total));
    }
    f.sealed = looks_like_tls(p->data.value);
    if (const Connection* c = connection(e.conn)) {
      f.from_client = p->from == c->client;
      f.spam = c->spam;
      f.bounce = c->bounce;
      if (f.kind == FlightKind::kLine)
        for (std::size_t ti : c->transfers) {
          const Transfer& t = transfers_[ti];
          const bool carrier = c->protocol == "smtp" ? f.from_client : !f.from_client;
          if (carrier && e.time >= t.start && e.time <= t.end) f.kind = FlightKind::kLetter;
        }
    }
    longest_flight_ = std::max(longest_flight_, f.end - f.start);
    end_time_ = std::max(end_time_, f.end);
    flights_.push_back(std::move(f));
  }
  std::stable_sort(flights_.begin(), flights_.end(), [](const Flight& a, const Flight& b) { return a.start < b.start; });
}

void TraceIndex::index_rest() {
  std::set<std::size_t> line_events;
  for (const auto& c : connections_)
    for (const auto& l : c.lines) line_events.insert(l.event);
  std::map<std::uint64_t, std::size_t> open_queries;
  std::map<std::pair<std::string, std::string>, std::string> queue_state;
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::vector<std::string>>> queue_env;
  std::map<std::pair<std::string, std::string>, Time> queue_first;
  std::set<std::size_t> hop_set, retry_set;

  for (std::size_t i = 0; i < events_.size(); ++i) {
    const auto& e = events_[i];
    switch (e.kind) {
      case EventKind::kPacket:
      case EventKind::kData:
        break;
      case EventKind::kCapture:
        captures_.push_back(i);
        break;
      case EventKind::kCommand:
      case EventKind::kReply:
        if (line_events.count(i)) steps_.push_back(i);
        if (const auto* r = e.as<sim::ReplyPayload>();
            r != nullptr && line_events.count(i) && r->protocol == "smtp" && r->code >= 500)
          markers_.push_back({MarkerKind::kRejected, e.time, i, e.host});
        break;
      default:
        steps_.push_back(i);
        if (e.kind == EventKind::kNote) notes_.push_back(i);
    }
    if (const auto* d = e.as<sim::DnsPayload>()) {
      if (e.kind == EventKind::kDnsQuery) {
        open_queries[d->query_id] = dns_.size();
        dns_.push_back({i, std::nullopt});
      } else if (auto it = open_queries.find(d->query_id); it != open_queries.end()) {
        dns_[it->second].answer_event = i;
        open_queries.erase(it);
      } else {
        dns_.push_back({i, i});  // an answer without its question (a cache hit recorded alone)
      }
    }
    if (const auto* q = e.as<sim::QueuePayload>()) {
      queue_events_.push_back(i);
      const auto key = std::make_pair(e.host, q->queue_id);
      queue_first.emplace(key, e.time);
      if (!q->sender.empty() || !q->recipients.empty()) queue_env[key] = {q->sender, q->recipients};
      if (e.kind == EventKind::kQueue) {
        const std::string prev = queue_state[key];
        if (prev == "deferred" && q->state != "removed" && q->state != "expired")
          markers_.push_back({MarkerKind::kRetried, e.time, i, e.host});
        if (q->state == "deferred") markers_.push_back({MarkerKind::kDeferred, e.time, i, e.host});
        queue_state[key] = q->state;
      } else if (q->retry_at > 0) {
        // The next attempt: the first thing this host does at or after retry_at.
        for (std::size_t k = i + 1; k < events_.size(); ++k)
          if (events_[k].time >= q->retry_at && events_[k].host == e.host) {
            retry_set.insert(k);
            break;
          }
      }
    }
    if (const auto* m = e.as<sim::MessagePayload>()) {
      if (!m->message_id.empty() && !m->queue_id.empty()) queue_message_[{e.host, m->queue_id}] = norm_id(m->message_id);
      if (e.kind == EventKind::kDelivery) {
        markers_.push_back({MarkerKind::kDelivered, e.time, i, e.host});
        hop_set.insert(i);
      } else {
        markers_.push_back({MarkerKind::kBounced, e.time, i, e.host});
        bounce_events_.push_back(i);
      }
    }
    if (const auto* mb = e.as<sim::MailboxPayload>()) {
      mailbox_events_.push_back(i);
      if (mb->action == "fetched") hop_set.insert(i);
    }
    if (e.as<sim::OutagePayload>() != nullptr) {
      outage_events_.push_back(i);
      const bool down = e.kind == EventKind::kHostDown || e.kind == EventKind::kLinkDown || e.kind == EventKind::kPortDown;
      markers_.push_back({down ? MarkerKind::kDown : MarkerKind::kUp, e.time, i,
                          e.as<sim::OutagePayload>()->target});
    }
    if (const auto* cap = e.as<sim::CapturePayload>(); cap != nullptr && !cap->encrypted) {
      // Credentials in the clear: SMTP AUTH PLAIN (RFC 4616: authzid NUL authcid NUL passwd),
      // POP3 PASS (RFC 1939 §7), IMAP LOGIN (RFC 3501 §6.2.3).
      const std::string& text = cap->data.value;
      std::size_t pos = 0;
      while (pos < text.size()) {
        auto eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string line = trim(std::string_view(text).substr(pos, eol - pos));
        pos = eol + 1;
        const std::string up = upper(line);
        if (up.rfind("AUTH PLAIN ", 0) == 0) {
          if (auto dec = codec::base64_decode(trim(line.substr(11)))) {
            const auto nul = dec->rfind('\0');
            if (nul != std::string::npos) leaked_[i] = dec->substr(nul + 1);
          }
        } else if (up.rfind("PASS ", 0) == 0) {
          leaked_[i] = line.substr(5);
        } else if (const auto at = up.find(" LOGIN "); at != std::string::npos && at > 0 && up.find(' ') == at) {
          // tag LOGIN user password
          std::string rest = line.substr(at + 7);
          const auto sp = rest.find(' ');
          if (sp != std::string::npos) {
            std::string pw = trim(rest.substr(sp + 1));
            if (pw.size() >= 2 && pw.front() == '"' && pw.back() == '"') pw = pw.substr(1, pw.size() - 2);
            leaked_[i] = pw;
          }
        }
      }
    }
  }
  // AUTH LOGIN (draft-murchison-sasl-login): the password is the second
  // base64 line the client sends after "AUTH LOGIN" on the same road.
  {
    std::map<std::tuple<std::string, std::string, int, int>, int> login_lines;
    for (std::size_t i : captures_) {
      const auto* cap = events_[i].as<sim::CapturePayload>();
      if (cap->encrypted) continue;
      const auto key = std::make_tuple(cap->from, cap->to, int{cap->src_port}, int{cap->dst_port});
      const std::string line = trim(cap->data.value);
      const std::string up = upper(line);
      if (up.rfind("AUTH LOGIN", 0) == 0) {
        login_lines[key] = up.size() > 11 ? 1 : 0;  // initial response = the user name
        continue;
      }
      auto it = login_lines.find(key);
      if (it == login_lines.end()) continue;
      if (it->second == 1) {
        if (auto dec = codec::base64_decode(line)) leaked_[i] = *dec;
        login_lines.erase(it);
      } else {
        it->second = 1;
      }
    }
  }
  // Sent: a letter leaves the sender's computer; hops: a letter arrives at the next office.
  for (const auto& t : transfers_) {
    hop_set.insert(t.end_event);
    const auto from = world_.find(t.from_host);
    if (from && (world_.hosts[*from].place == Place::kSenderComputer || world_.hosts[*from].place == Place::kSpammer))
      markers_.push_back({MarkerKind::kSent, t.end, t.end_event, t.from_host});
  }
  // Which letter each queue entry holds: the letter that arrived at that
  // office last before the entry appeared, or that left it with the same envelope.
  for (const auto& [key, env] : queue_env) {
    if (queue_message_.count(key)) continue;
    const Time first = queue_first[key];
    std::string found;
    for (const auto& t : transfers_) {
      if (t.message_id.empty() || t.mail_from != env.first) continue;
      if (t.to_host == key.first && t.end <= first) found = t.message_id;
      if (t.from_host == key.first && t.start >= first && found.empty()) {
        found = t.message_id;
        break;
      }
    }
    if (!found.empty()) queue_message_[key] = found;
  }
  std::stable_sort(markers_.begin(), markers_.end(), [](const Marker& a, const Marker& b) { return a.event < b.event; });
  hops_.assign(hop_set.begin(), hop_set.end());
  retries_.assign(retry_set.begin(), retry_set.end());
  for (const auto& m : markers_)
    if (m.kind == MarkerKind::kRetried) retry_set.insert(m.event);
  retries_.assign(retry_set.begin(), retry_set.end());
}

void TraceIndex::index_queue() {
  std::map<std::pair<std::string, std::string>, std::size_t> entry_of;
  std::vector<std::optional<std::size_t>> last_step_of;  // per entry: its latest step so far
  queue_steps_.reserve(queue_events_.size());
  for (std::size_t i : queue_events_) {
    const auto& e = events_[i];
    const auto* q = e.as<sim::QueuePayload>();
    auto [it, fresh] = entry_of.emplace(std::make_pair(e.host, q->queue_id), queue_entries_.size());
    if (fresh) {
      queue_entries_.push_back({e.host, q->queue_id, world_.find(e.host), message_of_queue_entry(e.host, q->queue_id)});
      last_step_of.emplace_back();
    }
    const std::size_t entry = it->second;
    // A retry scheduled at the very instant of a deferral belongs to it.
    if (e.kind == EventKind::kRetry && q->retry_at > 0 && last_step_of[entry]) {
      QueueStep& prev = queue_steps_[*last_step_of[entry]];
      const auto& pe = events_[prev.event];
      if (pe.kind == EventKind::kQueue && pe.time == e.time && pe.as<sim::QueuePayload>()->state == "deferred")
        prev.retry_at = q->retry_at;
    }
    last_step_of[entry] = queue_steps_.size();
    queue_steps_.push_back({i, entry, 0});
  }
}

}  // namespace mailsim::ui
