// BpeModel <-> flat image, for the compiled-tokenizer cache (tokenizer/cache.h).
#include <cstring>

#include "tokenizer/models/bpe.h"
#include "util/hash_map.h"

namespace tokalign::tok {

namespace {
constexpr uint64_t kImageVersion = 2;
}

void BpeModel::write_image(std::string& out) const {
  BlobWriter w(out);
  w.u64(kImageVersion);
  vocab_.write_to(w);
  literal_extra_.write_to(w);
  w.str(token_text_);
  w.vec(token_offset_);
  merges_.write_to(w);
  w.vec(byte_ids_);
  w.vec(fallback_ids_);
  w.u64(unk_id_ ? uint64_t{*unk_id_} : ~uint64_t{0});
  w.str(prefix_);
  w.str(suffix_);
  w.u64((fuse_unk_ ? 1 : 0) | (byte_fallback_ ? 2 : 0) | (ignore_merges_ ? 4 : 0) | (byte_level_ ? 8 : 0) |
        (spm_cuts_ ? 16 : 0));
  w.vec(cut_blockers_);
}

std::unique_ptr<BpeModel> BpeModel::read_image(std::string_view image) {
  BlobReader r(image.data(), image.size());
  if (r.u64() != kImageVersion) r.fail();
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->vocab_.read_from(r);
  m->literal_extra_.read_from(r);
  r.str(m->token_text_);
  r.vec(m->token_offset_);
  m->merges_.read_from(r);
  r.vec(m->byte_ids_);
  r.vec(m->fallback_ids_);
  uint64_t unk = r.u64();
  if (unk != ~uint64_t{0}) m->unk_id_ = static_cast<uint32_t>(unk);
  r.str(m->prefix_);
  r.str(m->suffix_);
  uint64_t flags = r.u64();
  m->fuse_unk_ = flags & 1;
  m->byte_fallback_ = flags & 2;
  m->ignore_merges_ = flags & 4;
  m->byte_level_ = flags & 8;
  m->spm_cuts_ = flags & 16;
  r.vec(m->cut_blockers_);
  m->fill_lookup_tables();
  if (!r.done() || m->fallback_ids_.size() != 256 || (m->byte_level_ && m->byte_ids_.size() != 256) ||
      m->token_offset_.empty() || m->token_offset_.back() != m->token_text_.size())
    r.fail();
  for (size_t i = 1; i < m->token_offset_.size(); ++i)
    if (m->token_offset_[i] < m->token_offset_[i - 1]) r.fail();
  return m;
}

}  // namespace tokalign::tok
