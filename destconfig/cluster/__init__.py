"""Many hosts, one table: a cluster's levels kept in a git repository."""
