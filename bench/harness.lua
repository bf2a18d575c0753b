--- What the benchmarks share: best-of timing, so that every bench counts
-- a figure the same way. Each timed function returns its elapsed ns.
local M = {}

--- Best time of `rounds` runs of `once`, a full collection before each
-- (outside the timed region).
-- @tparam integer rounds
-- @tparam function once () -> elapsed ns
-- @treturn number the least elapsed ns
function M.best(rounds, once)
  local t = math.huge
  for _ = 1, rounds do
    collectgarbage("collect")
    local dt = once()
    if dt < t then t = dt end
  end
  return t
end

--- ns per element of every row of a group, measured chunk by chunk: each
-- row's function(first) times elements first..first+chunk-1; every round
-- rotates who goes first (whoever goes second finds the same elements warm
-- in the cache), and each chunk's best over the rounds counts.
-- @tparam table rows {{name, function(first) -> elapsed ns}, ...}
-- @tparam integer n elements 0..n-1
-- @tparam integer chunk elements per call
-- @tparam integer rounds
-- @treturn table ns per element, at each row's index
function M.chunked(rows, n, chunk, rounds)
  local best = {}
  for i = 1, #rows do best[i] = {} end
  for round = 1, rounds do
    collectgarbage()
    for first = 0, n - 1, chunk do
      for j = 0, #rows - 1 do
        local i = (round + j) % #rows + 1
        best[i][first] = math.min(best[i][first] or math.huge, rows[i][2](first))
      end
    end
  end
  local ns = {}
  for i = 1, #rows do
    local t = 0
    for first = 0, n - 1, chunk do t = t + best[i][first] end
    ns[i] = t / n
  end
  return ns
end

return M
