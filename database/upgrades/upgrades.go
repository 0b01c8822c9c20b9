// Package upgrades holds the database schema: 00-latest.sql for a new database and one numbered
// file per step for an existing one. A step that has been released is never edited.
package upgrades

import (
	"embed"

	"go.mau.fi/util/dbutil"
)

//go:embed *.sql
var files embed.FS

// Table is the upgrade path of the bridge's schema.
var Table = dbutil.BuildUpgradeTable().WithFS(files).Finish()
