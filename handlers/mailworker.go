package handlers

import (
	"context"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/elsewhere-dev/elsewhere/models"
	"github.com/elsewhere-dev/elsewhere/models/mailer"
	"github.com/elsewhere-dev/elsewhere/views"
)

const (
	// mailLease is how long an app server has to send a mail it claimed before another may.
	mailLease = 2 * time.Minute
	// mailTimeout bounds one delivery.
	mailTimeout = 60 * time.Second
)

// runMail gathers alerts and sends the outbox until ctx ends.
func (a *App) runMail(ctx context.Context) {
	t := time.NewTicker(a.cfg.MailEvery)
	defer t.Stop()
	for {
		a.MailOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MailOnce turns quiet accounts' alert items into mails and sends every mail that is due.
// The worker New starts (with a Mailer) calls it every Config.MailEvery; calling it as
// well is safe, and each mail still goes once.
func (a *App) MailOnce(ctx context.Context) {
	if a.cfg.Mailer == nil {
		return
	}
	queued, err := a.mail.BatchAlerts(ctx, a.cfg.AlertQuiet, a.cfg.AlertMaxWait, a.composeAlert)
	a.metrics.mailed("queued", queued)
	if err != nil {
		if ctx.Err() == nil {
			a.metrics.dbError(err)
			a.log.Error("mail: gather alerts", "err", err)
		}
		return
	}
	for ctx.Err() == nil {
		o, ok, err := a.mail.Claim(ctx, mailLease)
		if err != nil {
			a.metrics.dbError(err)
			a.log.Error("mail: claim", "err", err)
			return
		}
		if !ok {
			return
		}
		a.sendMail(ctx, o)
	}
}

// sendMail sends one claimed mail with a freshly made link, and records the outcome. A
// failed mail is tried again later, with a new link; its unsent link is dropped.
func (a *App) sendMail(ctx context.Context, o models.Outgoing) {
	token, code, err := a.mail.NewLink(ctx, o)
	if err != nil {
		a.log.Error("mail: make link", "err", err, "mail_id", o.ID)
		return // the lease runs out and it is tried again
	}
	page := a.origin + a.path(mailPath(o.Kind))
	// The token goes after '#': no browser sends the fragment, so it reaches no server's
	// request line, and no log of the host's, a proxy's or a CDN's; the page's script
	// posts it. Without a script, the code is typed into the same page.
	link := page + "#t=" + token
	fill := strings.NewReplacer(views.MailLink, link, views.MailPage, page, views.MailCode, code)
	fillHTML := strings.NewReplacer(views.MailLink, html.EscapeString(link), views.MailPage, html.EscapeString(page), views.MailCode, code)
	msg := mailer.Message{From: a.cfg.MailFrom, To: o.To, Subject: o.Subject,
		Text: fill.Replace(o.Text), HTML: fillHTML.Replace(o.HTML)}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mailTimeout)
	err = a.cfg.Mailer.Send(sendCtx, msg)
	cancel()
	// Bookkeeping must not be lost to a shutdown that began during the send.
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		a.metrics.mailed("failed", 1)
		if derr := a.mail.DropLink(ctx, token, code); derr != nil {
			a.log.Error("mail: drop unsent link", "err", derr, "mail_id", o.ID)
		}
		gaveUp, ferr := a.mail.Failed(ctx, o, err)
		if ferr != nil {
			a.log.Error("mail: record failure", "err", ferr, "mail_id", o.ID)
		}
		level := a.log.Warn
		if gaveUp {
			level = a.log.Error
		}
		level("mail: not sent", "err", err, "mail_id", o.ID, "kind", o.Kind, "attempt", o.Attempts+1, "gave_up", gaveUp)
		return
	}
	a.metrics.mailed("sent", 1)
	if err := a.mail.Sent(ctx, o.ID); err != nil {
		a.log.Error("mail: record sent", "err", err, "mail_id", o.ID)
	}
	// A self-hoster can tell a mail went; the link and its code stay out of the log.
	a.log.Info("mail: sent", "kind", o.Kind, "to", o.To, "mail_id", o.ID)
}

// mailPath is the page a mail of that kind links to.
func mailPath(kind string) string {
	if kind == models.MailReset {
		return "/password/reset"
	}
	return "/account/not-me"
}

// composeAlert writes one account's alert mail, its times in the account's time zone,
// each item naming the device that made the change.
func (a *App) composeAlert(b models.AlertBatch) models.Outgoing {
	m := views.AlertMail{Site: a.cfg.BaseURL, More: b.More, SignIns: b.SignIns}
	loc := models.In(b.TimeZone)
	newOnly := true
	for _, it := range b.Items {
		dev, detail := views.MailSafe(it.Device), it.Detail
		if _, err := strconv.Atoi(detail); err != nil {
			detail = views.MailSafe(detail) // a device's label, not a count
		}
		if it.Kind != models.EventNewDevice {
			newOnly = false
		}
		what := views.EventLine(models.Event{Kind: it.Kind, Device: dev, Detail: detail})
		m.Items = append(m.Items, views.AlertItem{What: what, When: it.At.In(loc), IP: it.IP, Place: a.place(it.IP)})
	}
	return models.Outgoing{Subject: m.Subject(newOnly), Text: m.Text(), HTML: mailBody(views.AlertHTML(m))}
}

// mailBody renders a mail body to a string, off any request.
func mailBody(c templ.Component) string {
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		return ""
	}
	return b.String()
}
