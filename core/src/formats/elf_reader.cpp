#include "formats/elf_reader.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sf {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_path_list(const char* s) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p == ':') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(*p);
    }
  }
  out.push_back(cur);
  return out;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class ElfHandle {
 public:
  explicit ElfHandle(Elf* e) : e_(e) {}
  ~ElfHandle() {
    if (e_ != nullptr) elf_end(e_);
  }
  ElfHandle(const ElfHandle&) = delete;
  ElfHandle& operator=(const ElfHandle&) = delete;
  Elf* get() const { return e_; }

 private:
  Elf* e_;
};

Failure elf_failure(const fs::path& path, const std::string& what) {
  return Failure::error(path.string() + ": " + what);
}

}  // namespace

bool is_elf_file(const fs::path& path) {
  // open + pread of 4 bytes (an ifstream reads a whole buffer): this runs for every file of a view.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) return false;  // a symlink (ELOOP) or unreadable
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::array<char, SELFMAG> magic{};
  if (::pread(fd.get(), magic.data(), magic.size(), 0) != static_cast<ssize_t>(magic.size())) {
    return false;
  }
  return std::memcmp(magic.data(), ELFMAG, SELFMAG) == 0;
}

Expected<ElfInfo> read_elf(const fs::path& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) {
    return Failure::error(std::string("libelf initialisation failed: ") + elf_errmsg(-1));
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return elf_failure(path, std::string("cannot open: ") + std::strerror(errno));
  ElfHandle elf(elf_begin(fd.get(), ELF_C_READ, nullptr));
  if (elf.get() == nullptr) return elf_failure(path, std::string("libelf: ") + elf_errmsg(-1));
  if (elf_kind(elf.get()) != ELF_K_ELF) return elf_failure(path, "not an ELF file");

  ElfInfo info;
  info.path = path;
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) {
    return elf_failure(path, std::string("bad ELF header: ") + elf_errmsg(-1));
  }
  info.is_64bit = gelf_getclass(elf.get()) == ELFCLASS64;
  info.type = ehdr.e_type;
  info.machine = ehdr.e_machine;

  // Program interpreter from PT_INTERP.
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) == 0) {
    size_t raw_size = 0;
    const char* raw = elf_rawfile(elf.get(), &raw_size);
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf.get(), static_cast<int>(i), &ph) == nullptr) continue;
      if (ph.p_type == PT_INTERP && raw != nullptr && ph.p_offset < raw_size) {
        const size_t max = std::min<size_t>(ph.p_filesz, raw_size - ph.p_offset);
        info.interpreter.assign(raw + ph.p_offset, strnlen(raw + ph.p_offset, max));
      }
    }
  }

  // Sections, and the dynamic section's entries.
  size_t shstrndx = 0;
  const bool have_names = elf_getshdrstrndx(elf.get(), &shstrndx) == 0;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    ElfSection sec;
    if (have_names) {
      const char* n = elf_strptr(elf.get(), shstrndx, shdr.sh_name);
      if (n != nullptr) sec.name = n;
    }
    sec.offset = shdr.sh_offset;
    sec.size = shdr.sh_type == SHT_NOBITS ? 0 : shdr.sh_size;
    sec.alloc = (shdr.sh_flags & SHF_ALLOC) != 0;
    info.sections.push_back(std::move(sec));
    if (shdr.sh_type != SHT_DYNAMIC) continue;
    info.has_dynamic = true;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || shdr.sh_entsize == 0) continue;
    const size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Dyn dyn;
      if (gelf_getdyn(data, static_cast<int>(i), &dyn) == nullptr) break;
      if (dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH &&
          dyn.d_tag != DT_SONAME) {
        continue;
      }
      const char* s = elf_strptr(elf.get(), shdr.sh_link, dyn.d_un.d_val);
      if (s == nullptr) {
        return elf_failure(path, "dynamic entry points outside the string table");
      }
      switch (dyn.d_tag) {
        case DT_NEEDED:
          info.needed.emplace_back(s);
          break;
        case DT_RPATH:
          info.rpath = split_path_list(s);
          break;
        case DT_RUNPATH:
          info.runpath = split_path_list(s);
          break;
        case DT_SONAME:
          info.soname = s;
          break;
        default:
          break;
      }
    }
  }
  return info;
}

const ElfSection* ElfInfo::section_at(std::uint64_t offset) const {
  for (const auto& s : sections) {
    if (s.size > 0 && offset >= s.offset && offset - s.offset < s.size) return &s;
  }
  return nullptr;
}

std::vector<EmbeddedString> find_embedded_strings_in(std::string_view bytes,
                                                     std::string_view needle) {
  std::vector<EmbeddedString> out;
  if (needle.empty()) return out;
  size_t pos = 0;
  // memmem (glibc's two-way search) is much faster than string_view::find on binaries full of '/'.
  auto next = [&](size_t from) -> size_t {
    if (from >= bytes.size()) return std::string_view::npos;
    const void* hit =
        ::memmem(bytes.data() + from, bytes.size() - from, needle.data(), needle.size());
    return hit == nullptr ? std::string_view::npos
                          : static_cast<size_t>(static_cast<const char*>(hit) - bytes.data());
  };
  while ((pos = next(pos)) != std::string_view::npos) {
    size_t start = pos;
    // A string is the run of printable bytes around the match (code bytes before it are not).
    auto printable = [](char c) { return c >= 0x20 && c < 0x7f; };
    while (start > 0 && printable(bytes[start - 1])) --start;
    size_t end = pos + needle.size();
    while (end < bytes.size() && printable(bytes[end])) ++end;
    out.push_back({start, std::string(bytes.substr(start, end - start))});
    pos = end;
  }
  return out;
}

Expected<std::vector<EmbeddedString>> find_embedded_strings(const fs::path& path,
                                                            std::string_view needle,
                                                            bool skip_elf) {
  // Read whole into a buffer kept per thread: cheaper than mmap for a view's many small files
  // (no page faults on a fresh mapping, no munmap TLB shootdown across the scanning threads).
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Failure::error(path.string() + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Failure::error(path.string() + ": cannot stat: " + std::strerror(errno));
  }
  if (st.st_size == 0) return std::vector<EmbeddedString>{};
  if (skip_elf) {
    std::array<char, SELFMAG> magic{};
    if (::pread(fd.get(), magic.data(), magic.size(), 0) == static_cast<ssize_t>(magic.size()) &&
        std::memcmp(magic.data(), ELFMAG, SELFMAG) == 0) {
      return std::vector<EmbeddedString>{};
    }
  }
  thread_local std::string buffer;
  const auto want = static_cast<size_t>(st.st_size);
  if (buffer.size() < want) buffer.resize(want);
  size_t size = 0;
  while (size < want) {
    const ssize_t n = ::read(fd.get(), buffer.data() + size, want - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failure::error(path.string() + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;  // shrank while reading: scan what is there
    size += static_cast<size_t>(n);
  }
  return find_embedded_strings_in(std::string_view(buffer.data(), size), needle);
}

}  // namespace sf
