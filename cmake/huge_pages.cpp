// Part of mailsim::malloc (cmake/mailsim.cmake): tcmalloc takes its memory
// from the system in 2 MiB-aligned pieces marked MADV_HUGEPAGE, so the kernel
// backs them with transparent huge pages where it allows them ("madvise" or
// "always" in /sys/kernel/mm/transparent_hugepage/enabled; elsewhere the
// advice is ignored and nothing changes).
//
// Why: a simulated day keeps every delivered letter in a mailbox and every
// host's queue, DNS cache and sessions in its own corner of the heap. With 4
// KiB pages the benchmark's day run took 48,000 page faults and spent about
// 8% of its time in them; with huge pages it takes 1,900, and the accesses
// that hop between a thousand hosts' state miss the TLB less. The day run
// went from about 20,100 to 22,700 letters/s (median of six alternating
// runs, tests/bench/sim_bench.sh). Memory per held letter is unchanged
// (tcmalloc is told the size it really got, so nothing is rounded away).
#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <cstddef>

namespace {

class HugePageSysAllocator final : public SysAllocator {
public:
    explicit HugePageSysAllocator(SysAllocator* next) : next_(next) {}

    void* Alloc(std::size_t size, std::size_t* actual_size, std::size_t alignment) override
    {
        constexpr std::size_t huge = std::size_t{2} << 20;
        const std::size_t rounded = (size + huge - 1) & ~(huge - 1);
        void* p = next_->Alloc(rounded, actual_size, alignment < huge ? huge : alignment);
        if (p == nullptr) return next_->Alloc(size, actual_size, alignment);  // room for the small ask only
        ::madvise(p, rounded, MADV_HUGEPAGE);  // advice: failure (no THP in this kernel) changes nothing
        return p;
    }

private:
    SysAllocator* next_;
};

// Installed before main, when the first static object of the program is
// built; tcmalloc asks its system allocator only when a heap grows.
const bool installed = [] {
    MallocExtension* ext = MallocExtension::instance();
    static HugePageSysAllocator huge_pages(ext->GetSystemAllocator());
    ext->SetSystemAllocator(&huge_pages);
    return true;
}();

}  // namespace
