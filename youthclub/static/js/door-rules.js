// The check-in rule, decided on the device from today's door roster (GET /api/v1/door/roster).
// It mirrors services.check_in / _check_in_youth on the server, in the same order:
// pass (unknown, revoked) · already checked in · session not happening · cancelled ·
// not signed up (unless drop-in) · waitlisted · outside the age range (unless overridden).
// The server stays the authority: every scan this accepts is sent, and a different answer
// there is shown to staff. tests/browser/test_door_roster.py runs both on the same cases.

const encoder = new TextEncoder();

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// How a pass appears in a roster: sha256(salt + sha256(token)) in hex (attendance/roster.py).
export async function passHash(salt, token) {
  return sha256(salt + (await sha256(String(token).trim())));
}

export function rosterUsable(roster, now = new Date()) {
  return !!roster && !!roster.salt && now < new Date(roster.expires_at);
}

// The outcome of a scan of the pass with roster hash `hash` for session `sessionId` at `at`.
// `local` maps hash -> ISO time for scans checked in on this device and not yet synced.
export function decide(roster, sessionId, hash, at, { local = new Map(), override = false } = {}) {
  const session = roster && roster.sessions[String(sessionId)];
  if (!session || !rosterUsable(roster, at)) return { code: "no_roster" };
  const youth = roster.passes[hash];
  if (!youth) {
    return { code: roster.revoked.includes(hash) ? "revoked_token" : "unknown_token" };
  }
  // the age on the session's own day (a club that began yesterday evening): the roster lists it where it differs
  const age = session.ages && hash in session.ages ? session.ages[hash] : youth.age;
  const seen = { first_name: youth.first_name, age };
  const already = session.checked_in[hash] || local.get(hash);
  if (already) return { ...seen, code: "already_checked_in", scanned_at: already };
  if (at < new Date(session.opens) || at > new Date(session.closes)) return { ...seen, code: "session_not_now" };
  if (session.cancelled) return { ...seen, code: "session_cancelled" };
  const activity = roster.activities[String(session.activity_id)];
  const signup = activity.signups[hash];
  if (!signup && activity.requires_signup && !activity.allows_drop_in) return { ...seen, code: "not_signed_up" };
  if (signup === "waitlisted") return { ...seen, code: "waitlisted" };
  const outside = age < activity.min_age || age > activity.max_age;
  if (outside && !override) {
    return { ...seen, code: "outside_age", min_age: activity.min_age, max_age: activity.max_age };
  }
  return { ...seen, code: "checked_in", drop_in: !signup, age_override: outside };
}
