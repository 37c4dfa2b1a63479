// The "what if" switches of the view, as edits of a scenario document. The
// view re-runs the edited scenario from the start, so the change and its
// effect are plain to see. Edits are plain JSON changes on the document the
// loader accepted (Scenario::document), so the loader validates them again.
#pragma once

#include "ui/model/view_state.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mailsim::ui {

// The scenario document with the toggles applied.
//  - starttls on: servers offer STARTTLS (and require it on submission),
//    clients insist on it; off: nobody offers or asks for it.
//  - auth on: submission requires AUTH and clients log in; off: no AUTH.
//  - open_relay: every mail server relays for anyone (or for nobody unknown).
//  - down_host: the server is closed from the start and never reopens.
//  - unknown_recipient: every letter's first recipient becomes a user that
//    does not exist at the same domain ("nosuchuser@...").
nlohmann::json apply_toggles(const nlohmann::json& document, const Toggles& toggles);

// The servers (role mta or relay) a user may take down, in file order.
std::vector<std::string> server_names(const nlohmann::json& document);

// One line per change, for the "Changed:" banner ("STARTTLS off", ...).
std::vector<std::string> describe_toggles(const Toggles& toggles, Lang lang);

inline constexpr const char* kUnknownUser = "nosuchuser";

}  // namespace mailsim::ui
