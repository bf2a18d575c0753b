-- Perf buffers read by lua-libbpf itself (issue 17): the per-CPU rings are
-- walked under one protected call per poll, with batch= and fields= as for
-- ring buffers. Samples come from spec/bpf/perfbuf.bpf.c (sizes 16..143
-- bytes, so records straddle the end of a one-page ring at many offsets)
-- and spec/bpf/events.bpf.c, run through test_run on a chosen CPU.
local bpf = require "libbpf"
local H = require "helpers"

bpf.set_print(function() end)

local BPF_F_TEST_RUN_ON_CPU = 1

local function loaded(name)
  local obj = assert(bpf.open(H.obj(name or "perfbuf")))
  assert(obj:load())
  return obj
end

--- Emit `count` samples numbered from `start` on `cpu` (default 0).
local function vemit(obj, count, start, cpu)
  assert(obj.progs.vperf_emit:test_run{ctx = string.pack("I8I8", count, start or 0),
                                       flags = BPF_F_TEST_RUN_ON_CPU, cpu = cpu or 0})
end

--- The bytes the program wrote for sample `seq`, and their count.
local function expected(seq)
  local len = 16 + (seq * 37) % 128
  local t = {string.pack("I8I4I4", seq, len, 0x5a5a5a5a)}
  for k = 16, len - 1 do t[#t + 1] = string.char((seq + k) & 0xff) end
  return table.concat(t), len
end

--- Bytes a sample's record takes in the ring: header, size word, the data
--- padded so that the record stays 8-byte aligned.
local function record_size(seq)
  local _, len = expected(seq)
  return 8 + (len + 4 + 7) // 8 * 8
end

local PAGE = tonumber(io.popen("getconf PAGESIZE"):read("l"))
-- the last online CPU (test_run on an offline one fails)
local LAST_CPU = tonumber(H.slurp("/sys/devices/system/cpu/online"):match("(%d+)%s*$"))

--- Mappings of perf event rings in this process.
local function perf_mappings() return H.mappings("perf_event") end

describe("a perf buffer", function()
  it("delivers records that straddle the end of the ring whole, in every shape", function()
    local ROUNDS, PER = 40, 24          -- 24 records of <= 160 bytes fit one page
    -- where the records fall in a one-page ring: how many straddle its end
    local pos, straddle = 0, 0
    for seq = 0, ROUNDS * PER - 1 do
      local size = record_size(seq)
      if pos % PAGE + size > PAGE then straddle = straddle + 1 end
      pos = pos + size
    end
    assert.is_true(straddle >= 10, straddle)
    local obj <close> = loaded()
    local shapes = {
      raw = {{raw = true}, function(bad, seq, cpu, rec)
        local want, len = expected(seq)
        if cpu ~= 0 or rec:sub(1, len) ~= want or #rec ~= (len + 4 + 7) // 8 * 8 - 4 then
          bad(("%d bytes %q"):format(#rec, rec))
        end
        return 1
      end},
      table = {{type = "struct vsample"}, function(bad, seq, _, t)
        if t.seq ~= seq or t.len ~= select(2, expected(seq)) or t.cpu_hint ~= 0x5a5a5a5a then
          bad(("seq=%s len=%s"):format(t.seq, t.len))
        end
        return 1
      end},
      view = {{type = "struct vsample", view = true}, function(bad, seq, _, v)
        local _, len = expected(seq)
        if v.seq ~= seq or v.len ~= len or #v ~= (len + 4 + 7) // 8 * 8 - 4 then
          bad(("seq=%s len=%s #v=%d"):format(v.seq, v.len, #v))
        end
        return 1
      end},
      fields = {{type = "struct vsample", fields = {"seq", "len", "cpu_hint"}},
        function(bad, seq, cpu, s, len, hint, extra)
          if cpu ~= 0 or s ~= seq or len ~= select(2, expected(seq)) or hint ~= 0x5a5a5a5a
             or extra ~= nil then
            bad(("cpu=%s seq=%s len=%s hint=%s"):format(cpu, s, len, hint))
          end
          return 1
        end},
      batch = {{type = "struct vsample", batch = true}, function(bad, seq, cpu, b)
        local seqs, lens = b:column("seq"), b:column("len")
        for i = 1, #b do
          if cpu ~= 0 or seqs[i] ~= seq + i - 1 or lens[i] ~= select(2, expected(seq + i - 1))
             or b[i].seq ~= seq + i - 1 then
            bad(("record %d of %d: seq=%s len=%s"):format(i, #b, seqs[i], lens[i]))
          end
        end
        return #b
      end},
      ["batch raw"] = {{raw = true, batch = 5}, function(bad, seq, _, b)
        assert(#b <= 5)
        for i = 1, #b do
          local want, len = expected(seq + i - 1)
          if b[i]:sub(1, len) ~= want then bad(("record %d: %q"):format(i, b[i])) end
        end
        return #b
      end},
    }
    for name, shape in pairs(shapes) do
      local opts, check = shape[1], shape[2]
      local seq, err = 0, nil
      local function bad(what) err = err or ("%s: sample %d: %s"):format(name, seq, what) end
      opts.pages = 1
      opts.on_sample = function(cpu, ...) seq = seq + check(bad, seq, cpu, ...) end
      local pb <close> = assert(bpf.perfbuf(obj.maps.vsamples, opts))
      for round = 0, ROUNDS - 1 do
        vemit(obj, PER, round * PER)
        assert(pb:poll(1000))
        assert.is_nil(err)
      end
      assert.equal(ROUNDS * PER, seq, name)
      assert.equal(0, pb.lost, name)
    end
  end)

  it("hands batch= callbacks the CPU and at most N samples of its ring", function()
    local obj <close> = loaded()
    local calls, kept = {}, nil
    local pb <close> = assert(bpf.perfbuf(obj.maps.vsamples, {type = "struct vsample",
      batch = 4, on_sample = function(cpu, b)
        kept = b
        assert.matches("^libbpf.ringbuf_batch%(%d records%)$", tostring(b))
        calls[#calls + 1] = {cpu, #b, table.concat(b:column("seq"), ",")}
      end}))
    vemit(obj, 10, 0, 0)
    vemit(obj, 7, 100, LAST_CPU)
    assert.equal(17, pb:poll(1000) + (LAST_CPU > 0 and pb:poll(0) or 0))
    local want = {{0, 4, "0,1,2,3"}, {0, 4, "4,5,6,7"}, {0, 2, "8,9"}}
    if LAST_CPU == 0 then
      want[3] = {0, 4, "8,9,100,101"}
      want[4] = {0, 4, "102,103,104,105"}
      want[5] = {0, 1, "106"}
    else
      want[4] = {LAST_CPU, 4, "100,101,102,103"}
      want[5] = {LAST_CPU, 3, "104,105,106"}
    end
    assert.same(want, calls)
    assert.error_matches(function() return #kept end, "used outside its callback")
    assert.error_matches(function() return kept:column("seq") end, "used outside its callback")
    -- batch=true: one call per ring for everything it holds
    pb:close()                            -- (frees the map's slots, so first)
    local sizes = {}
    local pb2 <close> = assert(bpf.perfbuf(obj.maps.vsamples, {raw = true, batch = true,
      on_sample = function(_, b) sizes[#sizes + 1] = #b end}))
    vemit(obj, 50)
    assert.equal(50, pb2:poll(1000))
    assert.same({50}, sizes)
  end)

  it("refuses batch= with fields= and bad batch sizes", function()
    local obj <close> = loaded()
    assert.has_error(function()
      bpf.perfbuf(obj.maps.vsamples, {type = "struct vsample", batch = true, fields = {"seq"},
                                      on_sample = print})
    end, "libbpf.perfbuf: fields= cannot go with batch=")
    for _, b in ipairs{0, -1, 65537} do
      assert.error_matches(function()
        bpf.perfbuf(obj.maps.vsamples, {batch = b, on_sample = print})
      end, "libbpf.perfbuf: batch must be true, false or 1..65536 records")
    end
    assert.error_matches(function()
      bpf.perfbuf(obj.maps.vsamples, {batch = "many", on_sample = print})
    end, "option 'batch' must be an integer, got string")
    local calls = 0
    local pb <close> = assert(bpf.perfbuf(obj.maps.vsamples, {batch = false,
      on_sample = function(cpu, rec) calls = calls + 1; assert.equal(0, cpu); assert.string(rec) end}))
    vemit(obj, 3)
    assert.equal(3, pb:poll(1000))
    assert.equal(3, calls)
  end)

  it("counts lost samples and reports them after the samples before them, in batches too", function()
    -- how many samples from 0 a one-page ring takes (the kernel keeps one
    -- byte free: a record fits while used + size < PAGE)
    local k, used = 0, 0
    while used + record_size(k) < PAGE do used, k = used + record_size(k), k + 1 end
    local N = k - 3                       -- the first batch; 3 stay in the ring
    local obj <close> = loaded()
    local log, stop_first = {}, true
    local pb <close> = assert(bpf.perfbuf(obj.maps.vsamples, {type = "struct vsample",
      pages = 1, batch = N,
      on_sample = function(cpu, b)
        assert.equal(0, cpu)
        local seqs = b:column("seq")
        for i = 2, #seqs do assert.equal(seqs[1] + i - 1, seqs[i]) end
        log[#log + 1] = ("%d+%d"):format(seqs[1], #seqs)
        if stop_first then stop_first = false; return 1 end   -- leaves 3 in the ring
      end,
      on_lost = function(cpu, n) assert.equal(0, cpu); log[#log + 1] = "lost " .. n end}))
    vemit(obj, 200, 0)                    -- far more than one page holds
    assert.equal(N, pb:poll(1000))
    vemit(obj, 3, 200)                    -- the kernel writes the loss first
    assert.equal(6, pb:poll(1000))
    -- the 3 left, as a batch of their own before the loss; then 200..202
    assert.same({"0+" .. N, N .. "+3", "lost " .. 200 - k, "200+3"}, log)
    assert.equal(200 - k, pb.lost)
  end)

  it("raises an error of on_sample, of a batch callback or of on_lost from poll; "
     .. "what raised is consumed, the rest stays", function()
    local obj <close> = loaded()
    local seen = {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.vsamples, {type = "struct vsample",
      fields = {"seq"}, on_sample = function(_, seq)
        seen[#seen + 1] = seq
        if seq == 3 then error("sample three") end
      end}))
    vemit(obj, 10)
    local ok, err = pcall(pb.poll, pb, 1000)
    assert.is_false(ok)
    assert.matches("sample three\nstack traceback:", err)
    assert.same({0, 1, 2, 3}, seen)
    assert.equal(6, pb:poll(1000))        -- 4..9, delivered once
    assert.same({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, seen)
    pb:close()

    local batches = {}
    local pbb <close> = assert(bpf.perfbuf(obj.maps.vsamples, {type = "struct vsample",
      batch = 4, on_sample = function(_, b)
        batches[#batches + 1] = table.concat(b:column("seq"), ",")
        if #batches == 2 then error({batch = 2}) end
      end}))
    vemit(obj, 10)
    ok, err = pcall(pbb.poll, pbb, 1000)
    assert.is_false(ok)
    assert.same({batch = 2}, err)
    assert.equal(2, pbb:poll(1000))
    assert.same({"0,1,2,3", "4,5,6,7", "8,9"}, batches)
    pbb:close()

    local got = 0
    local pbl <close> = assert(bpf.perfbuf(obj.maps.vsamples, {raw = true, pages = 1,
      on_sample = function() got = got + 1 end,
      on_lost = function(_, n) error("lost " .. n) end}))
    vemit(obj, 200)
    local first = pbl:poll(1000)
    vemit(obj, 3, 200)
    ok, err = pcall(pbl.poll, pbl, 1000)
    assert.is_false(ok)
    assert.matches("lost %d+", err)
    assert.equal(200 - first, pbl.lost)
    assert.equal(3, pbl:poll(1000))       -- the samples after the loss
    assert.equal(first + 3, got)
  end)

  it("stops after a callback returns a non-zero integer, keeping the rest", function()
    local obj <close> = loaded()
    local seen = {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.vsamples, {type = "struct vsample",
      view = true, on_sample = function(_, v)
        seen[#seen + 1] = v.seq
        if v.seq == 4 then return 1 end
      end}))
    vemit(obj, 10)
    assert.equal(5, pb:poll(1000))
    -- the rest is there at once: poll does not wait for a wakeup the
    -- kernel already gave
    local t0 = bpf.monotonic()
    assert.equal(5, pb:poll(5000))
    assert.is_true(bpf.monotonic() - t0 < 1, bpf.monotonic() - t0)
    assert.same({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, seen)
    assert.equal(0, pb:consume())
  end)

  it("can be closed from its own callback, and raises when used after close", function()
    local obj <close> = loaded()
    H.gc()
    local fds, maps = H.fd_count(), perf_mappings()
    for _, opts in ipairs{{raw = true}, {raw = true, batch = 3}} do
      local calls, pb = 0, nil
      opts.on_sample = function()
        calls = calls + 1
        if calls == 2 then pb:close() end
      end
      pb = assert(bpf.perfbuf(obj.maps.vsamples, opts))
      vemit(obj, 10)
      assert.equal(opts.batch and 6 or 2, pb:poll(1000))
      assert.equal(2, calls)
      assert.equal("libbpf.perfbuf (closed)", tostring(pb))
      for _, f in ipairs{function() pb:poll(0) end, function() pb:consume() end,
                         function() pb:epoll_fd() end} do
        assert.error_matches(f, "libbpf.perfbuf: perf buffer is closed")
      end
      pb:close()                          -- again: nothing happens
      assert.equal(0, pb.lost)
    end
    H.gc()
    assert.equal(fds, H.fd_count())
    assert.equal(maps, perf_mappings())   -- the rings are unmapped
  end)

  it("delivers 100,000 samples of the events object on two CPUs to fields=", function()
    local obj <close> = loaded("events")
    local n, sum, cpus = 0, 0, {}
    local pb <close> = assert(bpf.perfbuf(obj.maps.samples, {type = "struct event",
      pages = 256, fields = {"seq"}, on_sample = function(cpu, seq)
        n, sum = n + 1, sum + seq
        cpus[cpu] = (cpus[cpu] or 0) + 1
      end}))
    for i = 0, 9 do
      local cpu = i % 2 == 0 and 0 or LAST_CPU
      assert(obj.progs.perf_emit:test_run{ctx = string.pack("I8I8I8", 10000, i * 10000, 0),
                                          flags = BPF_F_TEST_RUN_ON_CPU, cpu = cpu})
      pb:poll(1000)
    end
    assert.equal(100000, n)
    assert.equal(100000 * 99999 // 2, sum)
    assert.equal(0, pb.lost)
    if LAST_CPU > 0 then assert.same({[0] = 50000, [LAST_CPU] = 50000}, cpus) end
  end)
end)
