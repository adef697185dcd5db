/**
 * What the Emitter and Spot test pages share: read the page's query, run
 * the exercise, and write `{report}` or `{error}` as JSON into `#report`,
 * then set `<body data-status>` to `done` or `failed` for the test to wait on.
 *
 * @module
 */

/** What a page writes into `#report`. */
export interface PageReport<T> {
  report?: T;
  error?: string;
}

/** The little of the DOM this touches, typed here so it checks without the DOM library. */
interface PageGlobals {
  location: { search: string };
  document: {
    body: { dataset: Record<string, string> };
    getElementById(id: string): { textContent: string | null } | null;
  };
}

/**
 * Runs `exercise` with the page's query parameters named in `names`, all
 * required, and reports its outcome on the page.
 *
 * @param names The query parameters the exercise takes, in order.
 * @param exercise Runs with their values.
 * @returns Once the report is written.
 */
export async function reportOnPage<T>(
  names: readonly string[],
  exercise: (...values: string[]) => Promise<T>,
): Promise<void> {
  const page = globalThis as unknown as PageGlobals;
  const params = new URLSearchParams(page.location.search);
  const result: PageReport<T> = {};
  try {
    const values = names.map((name) => params.get(name) ?? "");
    if (values.includes("")) {
      throw new Error(`Open this page with ?${names.map((name) => `${name}=…`).join("&")}`);
    }
    result.report = await exercise(...values);
  } catch (error) {
    result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  const element = page.document.getElementById("report");
  if (element !== null) element.textContent = JSON.stringify(result);
  page.document.body.dataset.status = result.error === undefined ? "done" : "failed";
}
