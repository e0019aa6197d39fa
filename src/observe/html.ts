// HTML built with a tagged template that escapes every interpolated value, so the status page
// cannot forget to. Only the tag's own results (and arrays of them) go in as markup: their literal
// parts are written in this repository; everything else is text.
// Prettier leaves the page's templates alone (.prettierrc.json, embeddedLanguageFormatting): it would
// write void elements as `<meta />`, and whitespace in markup is content. They are laid out by hand;
// only the style sheet (status-style.ts) is Prettier's.

export function escapeHtml(text: unknown): string {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Markup made by `html`; `String(fragment)` is the markup. Only the type is exported, not the class. */
class Html {
  constructor(private readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}
export type { Html };

/**
 * What may be interpolated: text and numbers (escaped), fragments (inserted as they are), arrays of
 * either (concatenated). No null, undefined or boolean: an absent value is a decision (`?? '-'`),
 * not an accidental "undefined" on the page.
 */
export type HtmlValue = string | number | Html | readonly HtmlValue[];

function insert(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(insert).join('');
  return escapeHtml(value);
}

/** html`<td title="${when}">${text}</td>`: values are escaped, nested html`` results are not. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let markup = strings[0]!;
  values.forEach((value, i) => (markup += insert(value) + strings[i + 1]!));
  return new Html(markup);
}
