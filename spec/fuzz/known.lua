--- Call patterns the fuzzers avoid for now, because today's C core crashes
-- on them (issue 13). Each entry names its finding (F<n> in the fuzz
-- findings notes) and a Lua pattern matched against the logged line of a
-- call (what the child writes before making it, e.g.
-- `12 libbpf.map:update(libbpf.map#3[events], 1, {...})`). Remove an entry
-- when its crash is fixed; FUZZ_ALL=1 (`make fuzz FUZZ_ALL=1`) ignores the
-- whole list.
local KNOWN_CRASHES = {
  {id = "F1", pattern = "libbpf%.kernel_btf%.mt%.__gc%(",
   why = "the kernel BTF cache's __gc called by hand frees whatever it is given"},
  -- BTF fuzzer (spec/fuzz/btf.lua): the codec trusts the type records
  {id = "F7", pattern = "^mutant %d+ <[^>]*>[%w ]* decode%(",
   why = "btf:decode of a struct whose members lie outside its size: OOB read (also F8: NULL deref)"},
  {id = "F9", pattern = "^mutant %d+ <[^>]*>[%w ]* encode%(",
   why = "btf:encode of a type with a grown array count: stack buffer overflow"},
  {id = "F7", pattern = "^mutant %d+ <[^>]*>[%w ]* find/decode",
   why = "the same, through type names"},
  {id = "F7", pattern = "^mutant %d+ <[^>]*> vars$",
   why = "obj.vars reads and writes globals through the same codec (F7 reads, F9 writes)"},
  {id = "F13", pattern = "^mutant %d+ <[^>]*> typed map ops$",
   why = "typed lookup/update decode the map's value buffer with the BTF type's size, larger "
      .. "than the map's value_size: stack buffer overflow"},
  {id = "F10", pattern = "^mutant %d+ <[^>]*header[^>]*>[%w ]* sizeof%(",
   why = "btf:sizeof with string offsets past the string section: NULL name in is_char_name"},
  {id = "F10", pattern = "^mutant %d+ <[^>]*field[^>]*>[%w ]* sizeof%(",
   why = "the same, a type's name offset overwritten"},
  {id = "F10", pattern = "^mutant %d+ <[^>]*flip[^>]*>[%w ]* sizeof%(",
   why = "the same, a name offset's bits flipped"},
  {id = "F12", pattern = "^mutant %d+ <[^>]*self[^>]*>[%w ]* sizeof%(",
   why = "a struct with an anonymous member of its own type: fill_members overruns the member array"},
}

return KNOWN_CRASHES
