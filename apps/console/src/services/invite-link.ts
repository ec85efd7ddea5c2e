// Invitation links carry the token in the URL fragment (`/invite#<token>`): browsers never
// send the fragment to a server, so the token stays out of access logs, proxies and the
// Referer header. The accept page reads it back from `location.hash`.

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The absolute link for a token, given the app's absolute URL of the invite route. */
export function inviteLink(routeUrl: string, token: string): string {
  const url = new URL(routeUrl);
  url.search = '';
  url.hash = token;
  return url.toString();
}

/** The token in a `#…` fragment, or null when it is missing or malformed. */
export function inviteTokenFrom(hash: string): string | null {
  const token = hash.startsWith('#') ? hash.slice(1) : hash;
  return TOKEN.test(token) ? token : null;
}
