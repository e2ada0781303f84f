"""How many values each normalisation cache remembers.

The matching code memoises its pure normalisers (company keys, name forms, domains, employer
comparisons). The values are heavy (a company name's keys are about 1 KB), and an org's distinct
names grow with it: at 65,536 entries per cache the caches alone held about 250 MB in a 1M-contact
run. What repeats is a small head - an org's accounts and the popular employers people move to -
so a few thousand entries keep nearly every hit, and a worker's memory stays flat as the org grows
(benchmarks/matching_cost.py measures the CPU side)."""

#: Entries per cache of a name, domain or (account, company) pair.
NAMES = 8192
