#include "storage/codec.h"

#include <xxhash.h>
#include <lz4.h>
#include <zstd.h>

#include <fmt/format.h>

#include <memory>

#include "core/huge_pages.h"
#include "storage/binary_io.h"

namespace cairn {

uint64_t checksum64(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

namespace {

// Per-thread compression context and output scratch: ZSTD_compress would
// allocate (and the kernel zero) a fresh context of ~1 MiB on every call.
struct ZstdScratch {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  ~ZstdScratch() { ZSTD_freeCCtx(cctx); }
};

}  // namespace

std::string zstd_compress(std::string_view raw, int level) {
  thread_local ZstdScratch z;
  const size_t bound = ZSTD_compressBound(raw.size());
  if (z.cap < bound) {
    z.buf.reset(new char[bound]);
    z.cap = bound;
  }
  const size_t n = ZSTD_compressCCtx(z.cctx, z.buf.get(), bound, raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) return std::string();
  return std::string(z.buf.get(), n);
}

Result<std::string> zstd_decompress(std::string_view compressed, size_t raw_size) {
  // The frame states its own size: check it before allocating, so a damaged
  // size field cannot ask for terabytes.
  const unsigned long long stated = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (stated != raw_size) return Status::corruption(fmt::format("zstd: frame of {} bytes, expected {}", stated, raw_size));
  std::string out;
  out.reserve(raw_size);
  advise_huge_pages(out.data(), raw_size);  // before the pages are touched
  out.resize(raw_size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n)) return Status::corruption(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  if (n != raw_size) return Status::corruption(fmt::format("zstd: {} bytes, expected {}", n, raw_size));
  return out;
}

Status zstd_decompress_into(std::string_view compressed, size_t raw_size, std::string& out) {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  const unsigned long long stated = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (stated != raw_size) return Status::corruption(fmt::format("zstd: frame of {} bytes, expected {}", stated, raw_size));
  out.resize(raw_size);
  const size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n)) return Status::corruption(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  if (n != raw_size) return Status::corruption(fmt::format("zstd: {} bytes, expected {}", n, raw_size));
  return Status::ok();
}

size_t lz4_compress_into(std::string_view raw, std::string& out) {
  if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
  const size_t bound = static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size())));
  if (out.size() < bound) out.resize(bound);  // grown only: a resize would write zeros over it each time
  const int n = LZ4_compress_fast(raw.data(), out.data(), static_cast<int>(raw.size()), static_cast<int>(bound),
                                  kLz4Acceleration);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

Result<std::string> lz4_decompress(std::string_view compressed, size_t raw_size) {
  if (raw_size > static_cast<size_t>(LZ4_MAX_INPUT_SIZE) || compressed.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE))
    return Status::corruption(fmt::format("lz4: block of {} bytes is too large", raw_size));
  std::string out(raw_size, '\0');
  const int n = LZ4_decompress_safe(compressed.data(), out.data(), static_cast<int>(compressed.size()),
                                    static_cast<int>(raw_size));
  if (n < 0 || static_cast<size_t>(n) != raw_size)
    return Status::corruption(fmt::format("lz4: cannot decode {} bytes", raw_size));
  return out;
}

std::string seal_file(std::string_view magic8, std::string_view payload, int level) {
  const std::string comp = zstd_compress(payload, level);
  BinaryWriter w;
  w.put_bytes(magic8);
  w.put_u64(payload.size());
  w.put_u64(comp.size());
  w.put_u64(checksum64(comp));
  w.put_bytes(comp);
  return std::move(w.buffer());
}

Status check_sealed(std::string_view magic8, std::string_view data, const std::string& what, size_t base) {
  if (data.size() < 32 || data.substr(0, 8) != magic8)
    return Status::corruption(fmt::format("{}: bad header at offset {}", what, base));
  BinaryReader r(data.substr(8, 24));
  const uint64_t raw = r.get_u64(), comp = r.get_u64(), sum = r.get_u64();
  if (comp != data.size() - 32 || raw > (uint64_t{1} << 40))
    return Status::corruption(fmt::format("{}: size mismatch at offset {}", what, base + 8));
  if (checksum64(data.substr(32)) != sum)
    return Status::corruption(fmt::format("{}: checksum mismatch in block at offset {}", what, base + 32));
  return Status::ok();
}

Result<std::string> unseal_file(std::string_view magic8, std::string_view data, const std::string& what, size_t base) {
  CAIRN_RETURN_IF_ERROR(check_sealed(magic8, data, what, base));
  const uint64_t raw = BinaryReader(data.substr(8, 8)).get_u64();
  auto out = zstd_decompress(data.substr(32), raw);
  if (!out) return Status::corruption(fmt::format("{}: {} at offset {}", what, out.status().message(), base + 32));
  return out;
}

}  // namespace cairn
