// Final delivery into a MailboxStore.
#include "real/mta/store_delivery.h"

#include "real/mta/address.h"

namespace mailsim::mta {

StoreDelivery::StoreDelivery(store::MailboxStore& store, Clock& clock, MailboxNaming naming, std::string postmaster)
    : store_(store), clock_(clock), naming_(naming), postmaster_(std::move(postmaster)) {}

std::string StoreDelivery::mailbox_for(std::string_view local_part, std::string_view domain) const {
  std::string name = naming_ == MailboxNaming::local_part
                         ? std::string(local_part)
                         : std::string(local_part) + "@" + normalize_domain(domain);
  if (store::valid_user_name(name) && store_.user_exists(name)) return name;
  if (is_postmaster(local_part) && !postmaster_.empty() && store_.user_exists(postmaster_)) return postmaster_;
  return {};
}

bool StoreDelivery::has_mailbox(std::string_view local_part, std::string_view domain) const {
  return !mailbox_for(local_part, domain).empty();
}

void StoreDelivery::deliver(const std::string& recipient, const std::string& message,
                            std::function<void(LocalDeliveryResult)> done) {
  auto addr = parse_mailbox(recipient);
  auto box = addr ? mailbox_for(addr->local, addr->domain) : std::string{};
  if (box.empty())
    return done(LocalDeliveryResult{LocalDeliveryResult::Kind::permanent_failure, "no such mailbox"});
  try {
    store_.deliver(box, message, clock_.now() / kSecond);
  } catch (const store::StoreError& e) {
    auto kind = e.code() == store::StoreErrc::kNoSuchUser ? LocalDeliveryResult::Kind::permanent_failure
                                                          : LocalDeliveryResult::Kind::temporary_failure;
    return done(LocalDeliveryResult{kind, e.what()});
  }
  done(LocalDeliveryResult{LocalDeliveryResult::Kind::delivered, "mailbox " + box});
}

}  // namespace mailsim::mta
