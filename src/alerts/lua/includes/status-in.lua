-- Shared by the alert scripts (included, not run on its own): whether `status` is one of the
-- comma-separated statuses of `list` (ARGV `from`).
local function statusIn(status, list)
  for s in string.gmatch(list, '[^,]+') do
    if s == status then return true end
  end
  return false
end
