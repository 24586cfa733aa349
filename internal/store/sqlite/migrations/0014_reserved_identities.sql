-- Reserved: version 14 belongs to the identities branch, which holds the
-- real migration of this number. This placeholder only keeps the numbers
-- dense on the custom-domains branch; delete it when both are merged.
SELECT 1;
