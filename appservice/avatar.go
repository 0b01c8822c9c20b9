package appservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// avatarSize is the thumbnail's side in pixels: twice what the portal shows, for sharp
// screens.
const avatarSize = 112

// maxAvatarBytes bounds what the bridge reads of a picture.
const maxAvatarBytes = 1 << 20

// Avatar is a thumbnail of a user's Matrix avatar, downloaded with the bot's token, and its
// content type; nil data when they have none. The portal serves it to the clients the user is
// assigned to (the web side checks who asks).
func (c *Connector) Avatar(ctx context.Context, userID string) ([]byte, string, error) {
	uri, err := c.bot.GetAvatarURL(ctx, id.UserID(userID))
	if errors.Is(err, mautrix.MNotFound) {
		return nil, "", nil
	} else if err != nil {
		return nil, "", fmt.Errorf("reading the avatar's address: %w", err)
	}
	if uri.IsEmpty() {
		return nil, "", nil
	}
	resp, err := c.bot.DownloadThumbnail(ctx, uri, avatarSize, avatarSize, mautrix.DownloadThumbnailExtra{Method: "crop"})
	if err != nil || resp.StatusCode != http.StatusOK {
		// A homeserver that makes no thumbnail of this picture still serves the picture.
		if resp != nil {
			_ = resp.Body.Close()
		}
		if resp, err = c.bot.Download(ctx, uri); err != nil {
			return nil, "", fmt.Errorf("downloading the avatar: %w", err)
		}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("downloading the avatar: the homeserver answered %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAvatarBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading the avatar: %w", err)
	}
	if len(data) > maxAvatarBytes {
		return nil, "", nil // too large to be a thumbnail: shown as none
	}
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return data, ctype, nil
}
