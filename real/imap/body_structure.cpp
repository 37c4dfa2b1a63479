// ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2); see body_structure.h.
#include "real/imap/body_structure.h"

#include "real/codec/ascii.h"
#include "real/imap/wire.h"
#include "real/message/address.h"

namespace mailsim::imap {

namespace {

std::string nstring_field(const mime::Header& h, std::string_view name) {
  const std::string* v = h.value(name);
  return v ? imap_string(*v) : "NIL";
}

// An address list as "((name adl mailbox host) ...)" or NIL.
std::string address_list(const mime::Header& h, std::string_view name, std::string_view fallback = {}) {
  const std::string* v = h.value(name);
  std::vector<message::Address> list;
  if (v) list = message::parse_address_list(*v);
  if (list.empty() && !fallback.empty()) return address_list(h, fallback);
  if (list.empty()) return "NIL";
  std::string out = "(";
  for (const message::Address& a : list) {
    out += "(" + imap_nstring(a.name) + " " + imap_nstring(a.route) + " " + imap_nstring(a.mailbox) + " " +
           imap_nstring(a.host) + ")";
  }
  out += ")";
  return out;
}

std::string params(const std::vector<mime::Param>& ps) {
  if (ps.empty()) return "NIL";
  std::string out = "(";
  for (const mime::Param& p : ps) {
    if (out.size() > 1) out += ' ';
    out += imap_string(codec::to_upper(p.name)) + " " + imap_string(p.value);
  }
  return out + ")";
}

std::string disposition(const mime::Entity& e) {
  if (!e.disposition) return "NIL";
  return "(" + imap_string(codec::to_upper(e.disposition->type)) + " " + params(e.disposition->params) + ")";
}

// body-fld-lang: NIL, one string, or a list for "en, fr".
std::string language(const mime::Entity& e) {
  const std::string* v = e.header.value("Content-Language");
  if (!v) return "NIL";
  std::vector<std::string> tags;
  std::string cur;
  for (char c : *v) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) tags.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) tags.push_back(cur);
  if (tags.empty()) return "NIL";
  if (tags.size() == 1) return imap_string(tags[0]);
  std::string out = "(";
  for (const std::string& t : tags) {
    if (out.size() > 1) out += ' ';
    out += imap_string(t);
  }
  return out + ")";
}

}  // namespace

std::string envelope(const mime::Header& h) {
  std::string out = "(";
  out += nstring_field(h, "Date") + " ";
  out += nstring_field(h, "Subject") + " ";
  out += address_list(h, "From") + " ";
  out += address_list(h, "Sender", "From") + " ";
  out += address_list(h, "Reply-To", "From") + " ";
  out += address_list(h, "To") + " ";
  out += address_list(h, "Cc") + " ";
  out += address_list(h, "Bcc") + " ";
  out += nstring_field(h, "In-Reply-To") + " ";
  out += nstring_field(h, "Message-ID");
  return out + ")";
}

std::string body_structure(const mime::Entity& e, bool ext) {
  if (e.is_multipart()) {
    std::string out = "(";
    for (const mime::Entity& p : e.parts) out += body_structure(p, ext);
    out += " " + imap_string(codec::to_upper(e.content_type.subtype));
    if (ext) {
      out += " " + params(e.content_type.params) + " " + disposition(e) + " " + language(e) + " " +
             nstring_field(e.header, "Content-Location");
    }
    return out + ")";
  }
  std::string out = "(";
  out += imap_string(codec::to_upper(e.content_type.type)) + " " + imap_string(codec::to_upper(e.content_type.subtype));
  out += " " + params(e.content_type.params);
  out += " " + nstring_field(e.header, "Content-ID");
  out += " " + nstring_field(e.header, "Content-Description");
  out += " " + imap_string(codec::to_upper(e.encoding));
  out += " " + std::to_string(e.body_size());
  if (e.is_message_rfc822()) {
    const mime::Entity& inner = e.message.front();
    out += " " + envelope(inner.header) + " " + body_structure(inner, ext) + " " + std::to_string(e.body_lines);
  } else if (e.content_type.type == "text") {
    out += " " + std::to_string(e.body_lines);
  }
  if (ext) {
    out += " " + nstring_field(e.header, "Content-MD5") + " " + disposition(e) + " " + language(e) + " " +
           nstring_field(e.header, "Content-Location");
  }
  return out + ")";
}

}  // namespace mailsim::imap
