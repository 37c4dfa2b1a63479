// Local delivery into real/store's MailboxStore (MemoryStore in the
// simulator, MaildirStore in real mode): the last step of the post office,
// putting the letter into the recipient's box.
#pragma once

#include <string>

#include "real/mta/services.h"
#include "real/store/mailbox_store.h"

namespace mailsim::mta {

enum class MailboxNaming {
  local_part,    // bob@beta.example -> mailbox "bob" (one domain per store)
  full_address,  // bob@beta.example -> mailbox "bob@beta.example"
};

class StoreDelivery final : public LocalDelivery {
 public:
  // `store` and `clock` are borrowed. `postmaster` names the mailbox that
  // receives mail for postmaster@ when there is no mailbox of that name
  // (RFC 5321 §4.5.1); empty: none.
  StoreDelivery(store::MailboxStore& store, Clock& clock, MailboxNaming naming = MailboxNaming::local_part,
                std::string postmaster = {});

  bool has_mailbox(std::string_view local_part, std::string_view domain) const override;
  // Synchronous underneath (MaildirStore fsyncs before it returns); `done`
  // runs inside the call. StoreError kNoSuchUser is permanent, others
  // (kIo: disk trouble) temporary.
  void deliver(const std::string& recipient, const std::string& message,
               std::function<void(LocalDeliveryResult)> done) override;

  // The mailbox name for an address ("" when none).
  std::string mailbox_for(std::string_view local_part, std::string_view domain) const;

 private:
  store::MailboxStore& store_;
  Clock& clock_;
  MailboxNaming naming_;
  std::string postmaster_;
};

}  // namespace mailsim::mta
