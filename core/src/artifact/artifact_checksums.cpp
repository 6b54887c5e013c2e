#include "artifact/artifact_checksums.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "signing/gpg_signer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string errno_text() { return std::strerror(errno); }

[[noreturn]] void write_failed(const fs::path& file, const std::string& what) {
  throw PackagingError("cannot write " + file.string() + ": " + what, {{"file", file.string()}},
                       "check that the output folder is writable and has room");
}

// Writes `content` to a private temp file beside `dest` (".<name>.sf-tmp-XXXXXX", unique per
// writer), fsyncs it and renames it over `dest`: a reader sees the old file or the new one, and
// two writers never share a temp file.
void write_atomically(const fs::path& dest, const std::string& content) {
  std::string tmpl =
      (dest.parent_path() / ("." + dest.filename().string() + ".sf-tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) write_failed(dest, errno_text());
  const fs::path tmp = tmpl;
  std::size_t done = 0;
  std::string problem;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      problem = errno_text();
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (problem.empty() && ::fchmod(fd, 0644) != 0) problem = errno_text();
  if (problem.empty() && ::fsync(fd) != 0) problem = errno_text();
  if (::close(fd) != 0 && problem.empty()) problem = errno_text();
  std::error_code ec;
  if (problem.empty()) {
    fs::rename(tmp, dest, ec);
    if (!ec) return;
    problem = "cannot rename " + tmp.string() + " into place: " + ec.message();
  }
  fs::remove(tmp, ec);
  write_failed(dest, problem);
}

// An exclusive lock on <dir>/.SHA256SUMS.lock for the read-merge-write-sign of SHA256SUMS and
// SHA256SUMS.asc: concurrent `package` runs into one folder each add their lines, none is lost,
// and the signature always covers the file it sits beside.
class ChecksumsLock {
 public:
  explicit ChecksumsLock(const fs::path& dir) {
    const fs::path file = dir / kChecksumsLockFile;
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) write_failed(file, errno_text());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const std::string why = errno_text();
        ::close(fd_);
        throw PackagingError("cannot lock " + file.string() + ": " + why, {{"file", file.string()}},
                             "use an output folder on a filesystem with file locks");
      }
    }
  }
  ~ChecksumsLock() { ::close(fd_); }
  ChecksumsLock(const ChecksumsLock&) = delete;
  ChecksumsLock& operator=(const ChecksumsLock&) = delete;

 private:
  int fd_ = -1;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Expected<std::string> sha256_of_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Failure::error(path.string() + ": cannot open: " + std::strerror(errno));
  Sha256 digest;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n > 0) digest.update(buf.data(), static_cast<size_t>(n));
  }
  if (in.bad()) return Failure::error(path.string() + ": read error");
  return digest.hex();
}

std::vector<ChecksumLine> parse_sha256sums(const std::string& text, const std::string& origin) {
  std::vector<ChecksumLine> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const auto sp = line.find(' ');
    std::string sum = line.substr(0, sp);
    std::string file = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (!file.empty() && (file[0] == ' ' || file[0] == '*')) file.erase(0, 1);
    if (!is_hex64(sum) || file.empty() || file.find('/') != std::string::npos) {
      throw VerificationError("malformed checksum line",
                              {{"file", origin + ":" + std::to_string(n)}, {"line", line}},
                              "the checksum file was changed or damaged: fetch the artifact again");
    }
    out.push_back({sum, file});
  }
  return out;
}

std::string format_sha256sums(std::vector<ChecksumLine> lines) {
  std::sort(lines.begin(), lines.end(),
            [](const ChecksumLine& a, const ChecksumLine& b) { return a.file < b.file; });
  std::string out;
  for (const auto& l : lines) out += l.sha256 + "  " + l.file + "\n";
  return out;
}

fs::path artifact_signature_path(const fs::path& artifact) {
  return artifact.parent_path() / (artifact.filename().string() + ".asc");
}

fs::path write_artifact_signature(const fs::path& artifact, const GpgSigner& signer) {
  std::ifstream in(artifact, std::ios::binary);
  if (!in) {
    throw PackagingError("cannot read the artifact to sign it", {{"file", artifact.string()}},
                         "check that the packager wrote it and that it is readable");
  }
  std::string bytes(static_cast<size_t>(fs::file_size(artifact)), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) {
    throw PackagingError("short read of the artifact to sign it", {{"file", artifact.string()}},
                         "the file changed while it was signed: package again");
  }
  const fs::path asc = artifact_signature_path(artifact);
  write_atomically(asc, signer.sign_detached(bytes));
  return asc;
}

void write_checksums(const fs::path& dir, const std::vector<fs::path>& files,
                     const GpgSigner* signer, const std::map<std::string, std::string>& known) {
  // Our files are hashed before the lock is taken; only the merge, the signature and the two
  // renames are serialised.
  std::map<std::string, std::string> ours;
  for (const auto& f : files) {
    if (auto k = known.find(f.filename().string()); k != known.end()) {
      ours[k->first] = k->second;
      continue;
    }
    auto sum = sha256_of_file(f);
    if (!sum) {
      throw PackagingError("cannot checksum: " + sum.error().message, {{"file", f.string()}},
                           "check that the packager wrote the file");
    }
    ours[f.filename().string()] = *sum;
  }
  ChecksumsLock lock(dir);
  std::map<std::string, std::string> sums;
  const fs::path sums_path = dir / kChecksumsFile;
  if (fs::exists(sums_path)) {
    for (auto& l : parse_sha256sums(read_file(sums_path), sums_path.string())) {
      if (fs::exists(dir / l.file)) sums[l.file] = l.sha256;
    }
  }
  for (auto& [file, sum] : ours) sums[file] = sum;
  std::vector<ChecksumLine> lines;
  for (const auto& [file, sum] : sums) lines.push_back({sum, file});
  const std::string text = format_sha256sums(lines);
  // Signed first, then both published: a failed signature leaves the old pair untouched.
  std::string signature;
  if (signer != nullptr) signature = signer->sign_detached(text);
  write_atomically(sums_path, text);
  if (signer != nullptr) {
    write_atomically(dir / kChecksumsSignatureFile, signature);
  } else {
    // A signature of an earlier SHA256SUMS would not verify against this one.
    std::error_code ec;
    fs::remove(dir / kChecksumsSignatureFile, ec);
  }
}

}  // namespace sf
