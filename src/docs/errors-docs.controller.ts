import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Probe } from '../auth/access.decorator';
import { errorsPage } from '../common/errors/error-docs';

/** The page every error's `information_link` points into (`/docs/errors#<name>`). */
@ApiExcludeController()
@Probe()
@Controller('docs')
export class ErrorsDocsController {
  private readonly page = errorsPage();

  @Get('errors')
  @Header('Content-Type', 'text/html; charset=utf-8')
  errors(): string {
    return this.page;
  }
}
