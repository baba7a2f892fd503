package frontier_test

import (
	"testing"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/frontier/frontiertest"
)

func TestMemory(t *testing.T) {
	frontiertest.Run(t, func(t *testing.T, opts frontier.Options) frontier.Frontier {
		return frontier.NewMemory(opts)
	})
}
