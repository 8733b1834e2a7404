package store

import (
	"context"
	"errors"
)

func openPostgres(ctx context.Context, url string, opt Options) (DB, error) {
	return nil, errors.New("postgres: not built yet")
}
