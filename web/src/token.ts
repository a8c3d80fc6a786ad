// The server's token, asked for once per tab: sessionStorage forgets it when the tab closes, and
// it is only ever sent as `Authorization: Bearer` to the server the page came from (no cookies,
// so no other site's page can make the browser send it).

const KEY = "gitprompts.token";

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // A browser that refuses storage asks again on the next load.
  }
}
