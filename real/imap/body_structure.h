// The two FETCH items that describe a message's structure, in the exact shape
// RFC 3501 §7.4.2 gives them: ENVELOPE (from the header) and BODY /
// BODYSTRUCTURE (from the MIME tree, real/mime/mime.h).
#pragma once

#include <string>
#include <string_view>

#include "real/mime/mime.h"

namespace mailsim::imap {

// ENVELOPE of a message (or of an encapsulated message/rfc822):
// (date subject from sender reply-to to cc bcc in-reply-to message-id).
// Header values go out raw (encoded words stay encoded, as RFC 3501 says);
// Sender and Reply-To default to From when absent or empty.
std::string envelope(const mime::Header& header);

// BODYSTRUCTURE (`extensible` = true: with md5, disposition, language,
// location) or BODY (false) of `entity`, whose offsets refer to `raw`.
// Types, subtypes, parameter names and encodings are upper-cased as in the
// RFC's examples; parameter values are kept as written.
std::string body_structure(const mime::Entity& entity, bool extensible);

}  // namespace mailsim::imap
